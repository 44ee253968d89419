"""The dashboard in a real browser: streamlit run + Playwright driving Debian's Chromium."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PLANNER_DB": str(tmp_path / "planner.db"), "SOURCE_DATE_EPOCH": "1800000000"}
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}: {(tmp_path / 'streamlit.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not become healthy within 60 s")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_plan_and_download_calendar_in_a_browser(server: str, tmp_path: Path) -> None:
    icalendar = pytest.importorskip("icalendar")
    from playwright.sync_api import expect, sync_playwright

    from planner.curriculum import default_content_path, load_curriculum
    from planner.plan import Plan
    from planner.profile import next_monday, profile_from_mapping
    from planner.solve import make_plan

    hours = 22
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2600}, accept_downloads=True)
            page.goto(server)
            page.wait_for_selector(IDLE, timeout=60_000)
            expect(page.get_by_text("Make my plan").first).to_be_visible()

            field = page.get_by_label("Hours per week", exact=True)
            field.fill(str(hours))
            field.press("Tab")
            page.get_by_role("button", name="Make my plan").click()
            page.wait_for_selector(IDLE, timeout=60_000)
            metrics = page.get_by_test_id("stMetricValue")
            expect(metrics.first).to_be_visible(timeout=60_000)
            expect(page.get_by_test_id("stMetric").filter(has_text="Hours/week used")).to_contain_text(
                f"/ {hours}")
            finish = metrics.first.inner_text().strip()

            with page.expect_download(timeout=30_000) as dl:
                page.get_by_role("button", name="Calendar (.ics)").click()
            ics_path = tmp_path / "plan.ics"
            dl.value.save_as(ics_path)
            page.wait_for_selector("[data-testid='stDataFrame']", timeout=30_000)
            page.mouse.move(5, 5)
            page.wait_for_timeout(1500)
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copy(shot, "/tmp/dashboard.png")
        finally:
            browser.close()

    curriculum = load_curriculum(default_content_path())
    raw = {"background": "ml_background", "hours_per_week": float(hours), "days": list(
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")), "start": next_monday(dt.date.today()).isoformat(),
        "timezone": "UTC"}
    plan = make_plan(curriculum, profile_from_mapping(raw, curriculum))
    assert isinstance(plan, Plan)
    assert finish == plan.finish.isoformat()

    cal = icalendar.Calendar.from_ical(ics_path.read_bytes())
    events = [c for c in cal.walk("VEVENT")]
    got = [(str(e["UID"]), e.decoded("DTSTART")) for e in events]
    want = [(s.uid, s.start) for s in plan.active_sessions]
    assert len(got) == len(want)
    assert [uid for uid, _ in got] == [uid for uid, _ in want]
    assert all(a == b for (_, a), (_, b) in zip(got, want, strict=True))
