"""How long a forecast takes (goal: at most 0.3 s), cold (the learner's calendar not yet cached) and warm.

    PYTHONPATH=. python bench/forecast.py          # prints a Markdown table for docs/benchmarks.md

Cases: the default path for each background on a fresh plan, and a complete beginner 40 % through the path with
every finished topic's real hours recorded. Each figure is the median of 7 runs in a fresh process for the cold
case (the capacity cache empty), of 21 in one process for the warm one; wall time and CPU time are both shown, as
the machine may be shared.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = [("complete_beginner", 20, 0), ("ml_background", 18, 0), ("full_time_accelerated", 36, 0),
         ("complete_beginner", 20, 0.4)]
COLD_RUNS, WARM_RUNS = 7, 21

_WORKER = """
import json, sys, time
from planner.curriculum import load_curriculum
from planner.forecast import forecast
from planner.progress import mark_topic_done
from planner.profile import profile_from_mapping
from planner.solve import make_plan

background, hours, share, warm = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
c = load_curriculum("content/ml-ai-engineer.yaml")
plan = make_plan(c, profile_from_mapping({"background": background, "hours_per_week": hours, "start": "2027-01-04",
                                          "timezone": "Europe/Berlin", "holidays": "DE"}, c))
topics = list(plan.requirements.topics)[: int(len(plan.requirements.topics) * share)]
if topics:
    plan = mark_topic_done(plan, [t.id for t in topics], {t.id: t.hours * 1.3 for t in topics})
import numpy  # loaded by the solver already; the forecast's own cost is what is timed
out = []
for _ in range(warm or 1):
    w, c0 = time.perf_counter(), time.process_time()
    f = forecast(plan)
    out.append((time.perf_counter() - w, time.process_time() - c0))
print(json.dumps({"runs": out, "finish": f.to_dict()["finish"], "topics": f.pace.topics_measured}))
"""


def _run(background: str, hours: float, share: float, warm: int) -> dict:
    done = subprocess.run([sys.executable, "-c", _WORKER, background, str(hours), str(share), str(warm)],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout)


def main() -> int:
    print("| case | topics measured | cold wall / CPU | warm wall / CPU |")
    print("|---|---|---|---|")
    for background, hours, share in [(b, h, s) for b, h, s in CASES]:
        cold = [_run(background, hours, share, 0)["runs"][0] for _ in range(COLD_RUNS)]
        warm = _run(background, hours, share, WARM_RUNS)
        ms = lambda xs, i: 1000 * statistics.median(x[i] for x in xs)  # noqa: E731
        print(f"| {background} {hours:g} h/week, {int(share * 100)} % done | {warm['topics']} | "
              f"{ms(cold, 0):.0f} / {ms(cold, 1):.0f} ms | {ms(warm['runs'], 0):.0f} / {ms(warm['runs'], 1):.0f} ms |")
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"\n(bench took {time.perf_counter() - t:.0f} s)")
    sys.exit(code)
