"""`planner batch` against one `planner plan` process per learner: time per learner, 1 → 2 workers, Ray against
the local pool, and the memory of a worker (its peak resident set).

    PYTHONPATH=$PWD python bench/batch.py [--learners 200] [--single 10] [--ray]

A cohort of the default path's backgrounds and weekly hours (all of them fit), start 2027-01-04. One process per
learner is timed on --single learners (the figure is per learner, it does not grow with the cohort).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BACKGROUNDS = (("complete_beginner", 30), ("ml_background", 16), ("ml_background", 30),
               ("full_time_accelerated", 40))


def cohort(path: Path, n: int) -> None:
    lines = ["name,background,hours_per_week,start"]
    for i in range(n):
        bg, hours = BACKGROUNDS[i % len(BACKGROUNDS)]
        lines.append(f"learner{i:05d},{bg},{hours + (i // len(BACKGROUNDS)) % 3},2027-01-04")
    path.write_text("\n".join(lines) + "\n")


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and the children's peak resident set (MiB) of one command."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run([PY, "-m", "planner", *args], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return time.perf_counter() - t, max(after, before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=200)
    ap.add_argument("--single", type=int, default=10)
    ap.add_argument("--ray", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        csv = d / "cohort.csv"
        cohort(csv, a.learners)
        t_single = 0.0
        for i in range(a.single):
            bg, hours = BACKGROUNDS[i % len(BACKGROUNDS)]
            s, _ = run(["plan", "--background", bg, "--hours-per-week", str(hours), "--start", "2027-01-04",
                        "--json", str(d / "one.json"), "--ics", str(d / "one.ics")])
            t_single += s
        per_single = t_single / a.single
        print(f"one `planner plan` process per learner: {per_single:.3f} s a learner ({a.single} learners)")
        results = {}
        for workers in (1, 2):
            s, rss = run(["batch", str(csv), "--out", str(d / f"out{workers}"), "--workers", str(workers)])
            results[workers] = s
            print(f"batch, local, {workers} worker(s): {s:.1f} s for {a.learners} = {s / a.learners:.3f} s a learner "
                  f"({per_single / (s / a.learners):.1f}x one process each), {a.learners / s:.1f} plans/s; "
                  f"peak RSS of a process {rss:.0f} MiB")
        print(f"1 -> 2 workers: {results[1] / results[2]:.2f}x")
        if a.ray:
            s, _ = run(["batch", str(csv), "--out", str(d / "ray"), "--workers", "2", "--engine", "ray"])
            print(f"batch, ray (local, 2 cpus, start-up included): {s:.1f} s = {s / a.learners:.3f} s a learner, "
                  f"{a.learners / s:.1f} plans/s")


if __name__ == "__main__":
    main()
