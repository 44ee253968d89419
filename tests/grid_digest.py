"""Digests of the default benchmark grid's answers, to pin plans across engine changes.

    python tests/grid_digest.py > tests/data/grid_plans.json

Each feasible case is a SHA-256 over its sessions (uid, topic, kind, start, end) with the finish and session
count beside it; each infeasible case keeps the answer's figures.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content" / "ml-ai-engineer.yaml"
START = "2027-01-04"
BACKGROUNDS = ("complete_beginner", "ml_background", "full_time_accelerated")
HOURS = (5, 8, 10, 12, 15, 20, 25, 30, 40)


def case_key(background: str, hours: float) -> str:
    return f"{background}@{hours:g}"


def digest(curriculum: Any, background: str, hours: float) -> dict[str, Any]:
    from planner.profile import profile_from_mapping
    from planner.solve import Infeasible, make_plan

    profile = profile_from_mapping({"background": background, "hours_per_week": hours, "start": START,
                                    "timezone": "Europe/Berlin", "holidays": "DE"}, curriculum)
    result = make_plan(curriculum, profile)
    if isinstance(result, Infeasible):
        return {"status": "infeasible", "min_hours": result.min_hours_per_week,
                "earliest_finish": result.earliest_finish.isoformat() if result.earliest_finish else None,
                "drop_fits": result.drop.fits if result.drop else None,
                "drop_finish": result.drop.finish.isoformat() if result.drop and result.drop.finish else None}
    h = hashlib.sha256()
    for s in result.sessions:
        h.update(f"{s.uid}|{s.topic}|{s.kind}|{s.start.isoformat()}|{s.end.isoformat()}\n".encode())
    return {"status": "plan", "finish": result.finish.isoformat(), "sessions": len(result.sessions),
            "sha256": h.hexdigest()}


def main() -> int:
    from planner.curriculum import load_curriculum

    curriculum = load_curriculum(CONTENT)
    out = {case_key(bg, h): digest(curriculum, bg, h) for bg in BACKGROUNDS for h in HOURS}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
