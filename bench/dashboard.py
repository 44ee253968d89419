"""Dashboard speed in a real browser: streamlit run + Playwright driving Chromium, median of N runs each.

    python bench/dashboard.py [--runs 5] [--chromium /usr/bin/chromium]

Measures, as a learner sees them (wall clock from the click or navigation to the answer on screen):
  today-load   a warm reload of Today (server, its caches and the browser's cache warm) until the first Done
               button can be clicked
  new-tab      a new tab (a new session in the same browser) on the Plan page until its first chart is drawn;
               load-whole: until the whole Plan page (its form's Make my plan) is there
  first-visit  the same load in a new browser profile (nothing cached in the browser), for comparison
  page-switch  a click on another page in the app's navigation (Today -> Plan) until its form's Make my plan
               is there
  make-plan    "Make my plan" with new inputs (weekly hours never planned before) until the new figures show
  regenerate   "I'm behind — regenerate from today" on a plan with progress until the proposal shows
  done         a Done click on Today until it shows as saved (saved to the database first)
  catch-up     (learner "Behind": a beginner 17 weeks behind) "I'm behind" until the catch-up menu shows, every
               choice planned with its price (first run; catch-up-kept: again after Discard, the menu kept)
  pick         a catch-up choice until its proposal shows (planned with the menu)

Prints the load average at the start and at the end: on a shared machine the figures are only comparable at
the same load.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
TARGETS = {"today-load": 1.0, "done": 0.3, "new-tab": 2.5, "make-plan": 1.0, "regenerate": 1.0, "catch-up": 2.0,
           "pick": 0.5}
# reported next to the targets, without one of their own
EXTRA = ("load-whole", "first-visit", "page-switch", "today-load-phone", "catch-up-kept")
VIEWPORT: Any = {"width": 1280, "height": 1000}  # playwright's ViewportSize
PHONE: Any = {"width": 390, "height": 844}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _idle(page: Any) -> None:
    page.wait_for_timeout(30)
    page.wait_for_selector(IDLE, timeout=120_000)


def _nav(page: Any, title: str) -> None:
    page.get_by_test_id("stTopNavLink").filter(has_text=title).first.click()
    page.wait_for_timeout(100)
    _idle(page)


def _nav_click(page: Any, title: str) -> None:
    page.get_by_test_id("stTopNavLink").filter(has_text=title).first.click()


def _chart(page: Any) -> None:
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for(
        timeout=120_000)


def _first_done(page: Any) -> Any:
    """Today's first Done button (of a session still to tick): its label names the session ("Done: …")."""
    return page.get_by_role("button", name=re.compile(r"^Done: ")).first


def _today_load(tab: Any, url: str) -> float:
    """Seconds from a reload of Today to its first Done button, drawn and enabled."""
    t0 = time.perf_counter()
    tab.reload()
    _first_done(tab).wait_for(state="visible", timeout=120_000)
    tab.wait_for_function("() => { const b = Array.from(document.querySelectorAll('button')).find("
                          "x => x.innerText.trim().startsWith('Done: ')); return b && !b.disabled; }",
                          timeout=120_000)
    took = time.perf_counter() - t0
    _idle(tab)
    return took


def _load(tab: Any, url: str) -> tuple[float, float]:
    """Seconds from opening the Plan page to its first chart, and to the whole page (the form's button)."""
    t0 = time.perf_counter()
    tab.goto(f"{url}/plan")
    _chart(tab)
    chart = time.perf_counter() - t0
    tab.get_by_role("button", name="Make my plan", exact=True).wait_for(timeout=120_000)
    whole = time.perf_counter() - t0
    _idle(tab)  # the next load starts on a quiet server and browser
    tab.close()
    return chart, whole


def measure(url: str, chromium: str, runs: int, db: Path) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {k: [] for k in (*TARGETS, *EXTRA)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"{url}/plan")  # the learner saved by seed(): warms the server, its caches and the browser's
        _idle(page)
        _chart(page)

        for _ in range(runs):  # warm page loads: a new tab (a new session) in the same browser each time
            chart, whole = _load(context.new_page(), url)
            out["new-tab"].append(chart)
            out["load-whole"].append(whole)

        today = context.new_page()
        today.goto(url)
        _idle(today)
        for _ in range(runs):  # the learner's daily first look: Today again, in a warm browser
            out["today-load"].append(_today_load(today, url))
        for _ in range(runs):  # Today -> Plan through the navigation (Today has a chart too: wait for the form)
            t0 = time.perf_counter()
            _nav_click(today, "Plan")
            today.get_by_role("button", name="Make my plan", exact=True).wait_for(timeout=120_000)
            out["page-switch"].append(time.perf_counter() - t0)
            _idle(today)
            _nav(today, "Today")
        today.close()
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        tab = phone.new_page()
        tab.goto(url)  # its cache warmed once
        _idle(tab)
        for _ in range(runs):  # the same at phone size
            out["today-load-phone"].append(_today_load(tab, url))
        phone.close()

        for _ in range(runs):  # a first visit: a new browser profile, nothing in its cache
            fresh = browser.new_context(viewport=VIEWPORT)
            out["first-visit"].append(_load(fresh.new_page(), url)[0])
            fresh.close()

        field = page.get_by_label("Hours per week", exact=True)
        for i in range(runs):  # new inputs each time: nothing cached
            hours = 19.0 + 0.5 * i
            field.fill(str(hours))
            field.press("Tab")
            t0 = time.perf_counter()
            page.get_by_role("button", name="Make my plan", exact=True).click()
            page.get_by_test_id("stMetric").filter(has_text=f"of {hours:g}").first.wait_for(timeout=120_000)
            out["make-plan"].append(time.perf_counter() - t0)
            _idle(page)

        _nav(page, "Progress")
        for _ in range(runs):
            t0 = time.perf_counter()
            page.get_by_role("button", name="I'm behind — regenerate from today").click()
            page.get_by_test_id("stMetric").filter(has_text="New finish").first.wait_for(timeout=120_000)
            out["regenerate"].append(time.perf_counter() - t0)
            _idle(page)
            page.get_by_role("button", name="Discard", exact=True).first.click()
            page.get_by_test_id("stMetric").filter(has_text="New finish").first.wait_for(state="detached",
                                                                                         timeout=120_000)
            _idle(page)

        _nav(page, "Today")
        for _ in range(runs):  # the first session still to tick: its button goes, its "Saved —" line comes
            key = page.evaluate(
                "() => Array.from(document.querySelectorAll('[class*=\"st-key-\"]')).flatMap(e => "
                "Array.from(e.classList)).find(c => /^st-key-[otw]_v[0-9]+_done_/.test(c))")
            t0 = time.perf_counter()
            page.locator(f".{key} button").first.click()
            page.locator(f".{key}").first.wait_for(state="detached", timeout=120_000)
            page.get_by_text("Saved — done:").first.wait_for(timeout=120_000)
            out["done"].append(time.perf_counter() - t0)
            _idle(page)

        from planner.store import Store

        Store(db).set_last("Behind")  # a new tab opens the learner months behind: the catch-up menu
        page = context.new_page()
        page.goto(f"{url}/progress")
        _idle(page)
        for i in range(runs):  # the first run plans the menu; later ones find it kept (same plan version, day)
            t0 = time.perf_counter()
            page.get_by_role("button", name="I'm behind — regenerate from today").click()
            page.locator(".st-key-progress_catch_up_hours button").first.wait_for(timeout=300_000)
            out["catch-up" if i == 0 else "catch-up-kept"].append(time.perf_counter() - t0)
            _idle(page)
            t0 = time.perf_counter()
            page.locator(".st-key-progress_catch_up_hours button").first.click()
            page.get_by_test_id("stMetric").filter(has_text="New finish").first.wait_for(timeout=120_000)
            out["pick"].append(time.perf_counter() - t0)
            _idle(page)
            page.get_by_role("button", name="Discard", exact=True).first.click()
            _idle(page)
        browser.close()
    return out


def seed(db: Path) -> None:
    """A learner whose plan started two weeks ago, so Today has sessions and a re-plan has work to do."""
    import datetime as dt

    from planner.curriculum import default_content_path, load_curriculum
    from planner.export import plan_to_dict
    from planner.profile import profile_from_mapping
    from planner.solve import make_plan
    from planner.store import Store

    ml = load_curriculum(default_content_path())
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 14)
    raw = {"background": "ml_background", "hours_per_week": 18.0, "start": monday.isoformat(),
           "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "timezone": "UTC"}
    plan = make_plan(ml, profile_from_mapping(raw, ml))
    store = Store(db)
    behind_start = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 17 * 7)
    behind = {"background": "complete_beginner", "hours_per_week": 16.5, "start": behind_start.isoformat(),
              "timezone": "UTC"}
    store.save("Behind", behind, plan_to_dict(make_plan(ml, profile_from_mapping(behind, ml))),  # type: ignore[arg-type]
               tracked=True, note="seeded")
    store.save("Bench", raw, plan_to_dict(plan))  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    port = _port()
    env = {**os.environ, "PLANNER_DB": str(tmp / "planner.db")}
    seed(tmp / "planner.db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.25)
        load_before = os.getloadavg()[0]
        results = measure(url, args.chromium, args.runs, tmp / "planner.db")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"Load average (1 min) at the start {load_before:.1f}, at the end {os.getloadavg()[0]:.1f}; "
          f"{os.cpu_count()} cores\n")
    print("| Step | median (s) | runs (s) | target (s) |\n|---|---|---|---|")
    for key, values in results.items():
        if not values:
            continue
        med = statistics.median(values)
        runs = ", ".join(f"{v:.2f}" for v in values)
        target = TARGETS.get(key)
        verdict = "—" if target is None else f"≤ {target:g} {'met' if med <= target else 'MISSED'}"
        print(f"| {key} | {med:.2f} | {runs} | {verdict} |")


if __name__ == "__main__":
    main()
