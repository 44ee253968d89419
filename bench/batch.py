"""`planner batch` against one `planner plan` process per learner: time per learner, 1 → 2 workers, Ray against
the local pool, and the memory of the driver and of a worker (peak resident set, VmHWM).

    PYTHONPATH=$PWD python bench/batch.py --learners 1000 [--single 50] [--no-ray] [--workers 1,2]

The cohort: the default path's backgrounds at hours that fit, every learner with a profile of their own (hours in
half-hour steps, start dates over 25 Mondays of 2027), so no two learners share a plan and every figure is the cost
of planning (a class that shares a profile is planned once: see --class-size). One process per learner is timed on
--single learners (its figure is per learner; it does not grow with the cohort). The machine's load average
(1 minute, before and after) is printed beside each figure: on a shared machine the ratios are the figures to read.
The last lines are a Markdown table, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MIXES = (("complete_beginner", 30.0), ("ml_background", 16.5), ("ml_background", 24.0),
         ("full_time_accelerated", 40.0))
FIRST_MONDAY = dt.date(2027, 1, 4)


def cohort(path: Path, n: int, class_size: int = 1) -> None:
    """n learners; each run of `class_size` learners shares one profile (1: every profile differs)."""
    lines = ["name,background,hours_per_week,start"]
    for i in range(n):
        k = i // class_size
        bg, hours = MIXES[k % len(MIXES)]
        hours += 0.5 * ((k // len(MIXES)) % 10)
        start = FIRST_MONDAY + dt.timedelta(weeks=(k // (len(MIXES) * 10)) % 25)
        lines.append(f"learner{i:05d},{bg},{hours:g},{start.isoformat()}")
    path.write_text("\n".join(lines) + "\n")


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _hwm_mib(pid: int) -> tuple[str, float] | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return cmd, int(fields.get("VmHWM", "0 kB").split()[0]) / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args: list[str]) -> tuple[float, float, float, float, float]:
    """Wall seconds, the 1-minute load average at the end, the peak resident set (MiB) of the command's own
    process and of its largest worker (sampled every 0.2 s from /proc), and the CPU seconds of the command and
    the workers it waited for (a Ray worker's are not counted: Ray's own processes outlive the command's wait)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu = _cpu()
    t = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "planner", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    driver = worker = 0.0
    while proc.poll() is None:
        found = _hwm_mib(proc.pid)
        if found:
            driver = max(driver, found[1])
        for pid in _descendants(proc.pid):
            found = _hwm_mib(pid)
            if found and ("planner" in found[0] or "ray::" in found[0] or "default_worker" in found[0]):
                worker = max(worker, found[1])
        time.sleep(0.2)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"planner {' '.join(args)} exited {proc.returncode}")
    return wall, os.getloadavg()[0], driver, worker, _cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=1000)
    ap.add_argument("--single", type=int, default=50, help="learners timed as one `planner plan` process each")
    ap.add_argument("--workers", default="1,2", help="worker counts for the local pool, e.g. 1,2")
    ap.add_argument("--no-ray", dest="ray", action="store_false")
    ap.add_argument("--class-size", type=int, default=10, help="also time a cohort whose classes of this size "
                                                                "share a profile (0: skip)")
    a = ap.parse_args()
    n = a.learners
    rows: list[tuple[str, str, str]] = []  # measure, figure, load average
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        csv = d / "cohort.csv"
        cohort(csv, n)
        load0 = os.getloadavg()[0]
        t_single = c_single = 0.0
        for i in range(a.single):
            bg, hours = MIXES[i % len(MIXES)]
            hours += 0.5 * ((i // len(MIXES)) % 10)
            s, _, _, _, c = run(["plan", "--background", bg, "--hours-per-week", f"{hours:g}", "--start",
                              FIRST_MONDAY.isoformat(), "--json", str(d / "one.json"), "--ics", str(d / "one.ics")])
            t_single += s
            c_single += c
        per_single = t_single / a.single
        load = f"{load0:.1f} → {os.getloadavg()[0]:.1f}"
        cpu_single = c_single / a.single
        print(f"one `planner plan` process per learner: {per_single:.3f} s a learner, {cpu_single:.3f} s of CPU "
              f"({a.single} learners; load {load})", flush=True)
        rows.append((f"one `planner plan` process per learner ({a.single} timed)",
                     f"{per_single:.2f} s a learner ({cpu_single:.2f} s of CPU); {n} learners ≈ "
                     f"{per_single * n / 60:.0f} min", load))
        walls: dict[int, float] = {}
        for workers in (int(w) for w in a.workers.split(",")):
            load0 = os.getloadavg()[0]
            s, load1, driver, worker, c = run(["batch", str(csv), "--out", str(d / f"out{workers}"), "--workers",
                                               str(workers)])
            walls[workers] = s
            load = f"{load0:.1f} → {load1:.1f}"
            line = (f"{s:.0f} s = {s / n:.3f} s a learner, {n / s:.2f} plans/s ({n / s / workers:.2f} per worker), "
                    f"{per_single / (s / n):.1f}× one process each; CPU {c / n:.3f} s a learner = {n / c:.2f} "
                    f"plans per CPU-second ({cpu_single / (c / n):.1f}× less CPU than a process each)")
            print(f"batch, local, {workers} worker(s): {line}; peak RSS driver {driver:.0f} MiB, worker "
                  f"{worker:.0f} MiB (load {load})", flush=True)
            rows.append((f"`planner batch`, {workers} worker(s), {n} learners", line, load))
            rows.append((f"peak resident set, {workers} worker(s)", f"driver {driver:.0f} MiB, each worker ≤ "
                                                                     f"{worker:.0f} MiB", load))
        if 1 in walls and 2 in walls:
            rows.append(("1 → 2 workers", f"{walls[1] / walls[2]:.2f}×", "(as above)"))
            print(f"1 -> 2 workers: {walls[1] / walls[2]:.2f}x", flush=True)
        top = max(walls)
        if a.class_size > 1:
            classes = d / "classes.csv"
            cohort(classes, n, a.class_size)
            load0 = os.getloadavg()[0]
            s, load1, _, _, _ = run(["batch", str(classes), "--out", str(d / "classes"), "--workers", str(top)])
            load = f"{load0:.1f} → {load1:.1f}"
            line = f"{s:.0f} s = {n / s:.2f} plans/s (one solve per class)"
            print(f"batch, classes of {a.class_size} sharing a profile, {top} worker(s): {line} (load {load})",
                  flush=True)
            rows.append((f"classes of {a.class_size} learners sharing a profile, {top} worker(s)", line, load))
        if a.ray:
            load0 = os.getloadavg()[0]
            s, load1, driver, worker, _ = run(["batch", str(csv), "--out", str(d / "ray"), "--workers", str(top),
                                            "--engine", "ray"])
            load = f"{load0:.1f} → {load1:.1f}"
            line = (f"{s:.0f} s = {n / s:.2f} plans/s, {walls[top] / s:.2f}× the local pool on {top} worker(s) "
                    f"(Ray's start-up included); peak RSS of a Ray worker {worker:.0f} MiB")
            print(f"batch, ray on this machine, {top} CPUs: {line} (load {load})", flush=True)
            rows.append((f"`--engine ray`, a local Ray of {top} CPUs", line, load))
    print()
    print(f"{dt.date.today().isoformat()}, {os.cpu_count()} CPUs, {n} learners, `python bench/batch.py "
          f"{' '.join(sys.argv[1:])}`:")
    print()
    print("| measure | figure | load average (1 min, before → after) |")
    print("|---|---|---|")
    for measure, figure, load in rows:
        print(f"| {measure} | {figure} | {load} |")


if __name__ == "__main__":
    main()
