"""Reviews that follow recall: each topic is an FSRS card, and its reviews come when the card is due.

Due dates here are computed independently with the `fsrs` package itself (not through planner.recall): a
scheduler with no learning or relearning steps and no fuzzing, each recall at 00:00 UTC of its day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import replace
from pathlib import Path

import fsrs
import pytest

from planner.errors import InputError
from planner.export import plan_to_json
from planner.plan import Plan, Session
from planner.planfile import plan_from_dict, read_plan_file
from planner.progress import mark_done, mark_done_through
from planner.replan import Replanned, replan
from planner.reviews import place_reviews
from planner.validate import validate_plan
from tests.conftest import SQL_PATH, plan_ok

OLD_PLAN = Path(__file__).parent / "data" / "plan_fixed_reviews.json"  # written by the planner before FSRS


def fsrs_due(history: list[tuple[dt.date, str]], retention: float = 0.9) -> dt.date:
    scheduler = fsrs.Scheduler(desired_retention=retention, learning_steps=(), relearning_steps=(),
                               enable_fuzzing=False)
    card = fsrs.Card(card_id=7)
    for day, rating in history:
        at = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)
        card, _ = scheduler.review_card(card, getattr(fsrs.Rating, rating.capitalize()), at)
    return card.due.date()


def fsrs_retrievability(history: list[tuple[dt.date, str]], day: dt.date) -> float:
    scheduler = fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    card = fsrs.Card(card_id=7)
    for d, rating in history:
        card, _ = scheduler.review_card(card, getattr(fsrs.Rating, rating.capitalize()),
                                        dt.datetime.combine(d, dt.time(0, 0), tzinfo=dt.UTC))
    return float(scheduler.get_card_retrievability(card, dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)))


@pytest.fixture(scope="module")
def roomy(sql):
    """Room for every review on its day: more hours than the path needs, half of them allowed for reviews."""
    return plan_ok(sql, background="beginner", hours_per_week=10, review_cap_percent=50, timezone="Europe/Berlin")


def _reviews(plan: Plan, topic: str, status: str = "planned") -> list[Session]:
    return sorted((s for s in plan.sessions if s.topic == topic and s.kind == "review" and s.status == status),
                  key=lambda s: s.start)


def _last_study(plan: Plan, topic: str) -> Session:
    return max((s for s in plan.sessions if s.topic == topic and s.kind != "review" and s.status != "cancelled"),
               key=lambda s: s.start)


def test_a_new_plan_places_reviews_at_the_fsrs_due_dates_of_good_recalls(roomy):
    """Three good recalls after the completion: +2, +11, +46 days (the issue's figures), each on its due day."""
    checked = 0
    for t in roomy.requirements.topics:
        rs = _reviews(roomy, t.id)
        if not rs:
            continue
        history = [(_last_study(roomy, t.id).day, "good")]
        for r in rs:
            assert r.day == fsrs_due(history)
            history.append((r.day, "good"))
            checked += 1
    assert checked >= 8
    first = roomy.requirements.topics[0].id
    completion = _last_study(roomy, first).day
    days = [completion, *(r.day for r in _reviews(roomy, first))]
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    assert gaps == [2, 11, 46][: len(gaps)] and len(gaps) >= 2


def _first_day_with_room(plan: Plan, day: dt.date, leave_out: Session) -> dt.date:
    """The first day from `day` on whose hours (and whose week's, less the catch-up buffer) hold another 30
    minutes besides what the plan has there, `leave_out` apart: a catch-up after a re-plan may fill days."""
    p = plan.profile
    live = [s for s in plan.sessions if s.status not in ("cancelled", "missed") and s.uid != leave_out.uid]
    while True:
        week = [s for s in live if s.day.isocalendar()[:2] == day.isocalendar()[:2]]
        if (sum(s.hours for s in live if s.day == day) + 0.5 <= p.weekday_hours[day.weekday()] + 1e-9
                and sum(s.hours for s in week) + 0.5 <= p.study_week_blocks / 2 + 1e-9):
            return day
        day += dt.timedelta(days=1)


def _replanned(curriculum, plan: Plan, today: dt.date) -> Plan:
    result = replan(curriculum, plan, today, allow_late=True)
    assert isinstance(result, Replanned)
    assert [str(p) for p in validate_plan(result.plan) if p.rule != "month-range"] == []
    return result.plan


def _round_trip(plan: Plan, curriculum) -> Plan:
    return plan_from_dict(json.loads(plan_to_json(plan)), curriculum)


@pytest.mark.parametrize("ratings", [("good", "good"), ("hard", "again"), ("easy", "hard"), ("again", "easy")])
def test_ratings_set_the_next_due_date_through_mark_and_replan(sql, roomy, ratings):
    """The completion's rating and the first review's rating each set when the next review comes, and survive
    mark → re-plan → re-plan through the plan file."""
    topic = roomy.requirements.topics[0].id
    last = _last_study(roomy, topic)
    plan = mark_done(mark_done_through(roomy, last.day), [last.uid], rating=ratings[0])
    plan = _round_trip(_replanned(sql, plan, last.day + dt.timedelta(days=1)), sql)
    history = [(last.day, ratings[0])]
    first = _reviews(plan, topic)[0]
    assert first.day == _first_day_with_room(plan, max(fsrs_due(history), last.day + dt.timedelta(days=1)), first)

    plan = mark_done(mark_done_through(plan, first.day - dt.timedelta(days=1)), [first.uid], rating=ratings[1])
    today = first.day + dt.timedelta(days=1)
    plan = _round_trip(_replanned(sql, _round_trip(plan, sql), today), sql)
    history.append((first.day, ratings[1]))
    second = _reviews(plan, topic)[0]
    assert second.day == _first_day_with_room(plan, max(fsrs_due(history), today), second)

    again = _round_trip(_replanned(sql, plan, today), sql)  # a second re-plan keeps the history and the dates
    assert [s.rating for s in again.sessions if s.uid in (last.uid, first.uid)] == [ratings[0], ratings[1]] or \
        [s.rating for s in again.sessions if s.uid in (first.uid, last.uid)] == [ratings[1], ratings[0]]
    assert _reviews(again, topic)[0].day == second.day
    log = next(t for t in json.loads(plan_to_json(again))["topics"] if t["id"] == topic)["review_log"]
    assert log == [{"date": d.isoformat(), "rating": r} for d, r in history]


def test_a_rating_goes_only_with_a_review_or_a_topics_last_session(roomy):
    topic = roomy.requirements.topics[0].id
    study = sorted((s for s in roomy.sessions if s.topic == topic and s.kind == "study"), key=lambda s: s.start)
    assert len(study) >= 2
    with pytest.raises(InputError, match="not a review or the topic's last session"):
        mark_done(roomy, [study[0].uid], rating="easy")
    with pytest.raises(InputError, match="expected one of again, hard, good, easy"):
        mark_done(roomy, [study[-1].uid], rating="perfect")
    assert next(s for s in mark_done(roomy, [study[-1].uid], rating="hard").sessions
                if s.uid == study[-1].uid).rating == "hard"


def test_the_cap_holds_and_the_least_recalled_review_goes_first(roomy):
    """Two topics overdue on the same Monday with room for one review that week: the one the learner is less
    likely to recall (a lapse three days ago) goes before the one due longer (a good recall ten days ago)."""
    p = replace(roomy.profile, review_cap_percent=5)  # 10 h a week: one 30-minute review
    assert p.review_cap_blocks == 1
    a, b, c = (t.id for t in roomy.requirements.topics[:3])
    monday = dt.date(2027, 3, 1)
    assert monday.weekday() == 0

    def moved(s: Session, day: dt.date, status: str = "done", rating: str | None = None) -> Session:
        shift = dt.datetime.combine(day, s.start.timetz()) - dt.datetime.combine(s.day, s.start.timetz())
        return replace(s, start=s.start + shift, end=s.end + shift, status=status, rating=rating)

    sa = moved(_last_study(roomy, a), monday - dt.timedelta(days=10), rating="good")
    sb = moved(_last_study(roomy, b), monday - dt.timedelta(days=3), rating="again")
    later = moved(_last_study(roomy, c), monday + dt.timedelta(days=40), status="planned")
    req = replace(roomy.requirements, topics=tuple(replace(t, reviews=1 if t.id in (a, b) else 0)
                                                   for t in roomy.requirements.topics))
    history_a, history_b = [(sa.day, "good")], [(sb.day, "again")]
    assert fsrs_due(history_a) < fsrs_due(history_b) <= monday  # a was due first ...
    assert fsrs_retrievability(history_b, monday) < fsrs_retrievability(history_a, monday)  # ... b is the weaker
    got = {r.topic: r for r in place_reviews([sa, sb, later], req, p, not_before=monday).sessions}
    assert got[b].day == monday
    assert got[a].day >= monday + dt.timedelta(days=7)  # the week's one review went to b
    weeks = [r.day.isocalendar()[:2] for r in got.values()]
    assert len(set(weeks)) == len(weeks)


def test_a_missed_review_is_due_now_on_replan(sql, roomy):
    topic = roomy.requirements.topics[0].id
    review = _reviews(roomy, topic)[0]
    plan = mark_done_through(roomy, review.day - dt.timedelta(days=1))  # the review itself is not done
    today = review.day + dt.timedelta(days=5)
    new = _replanned(sql, plan, today)
    assert next(s for s in new.sessions if s.uid == review.uid).status == "missed"
    again = [s for s in _reviews(new, topic) if s.ordinal == review.ordinal]
    assert len(again) == 1 and today <= again[0].day < today + dt.timedelta(days=7)
    assert again[0].day == _first_day_with_room(new, today, again[0])  # due now: the first day with room


def test_same_inputs_give_the_same_plan(sql, roomy):
    def bytes_without_timings(plan: Plan) -> str:
        doc = json.loads(plan_to_json(plan))
        doc["summary"].pop("solver")
        return json.dumps(doc, sort_keys=True)

    again = plan_ok(sql, background="beginner", hours_per_week=10, review_cap_percent=50, timezone="Europe/Berlin")
    assert bytes_without_timings(again) == bytes_without_timings(roomy)
    topic = roomy.requirements.topics[0].id
    last = _last_study(roomy, topic)
    marked = mark_done(mark_done_through(roomy, last.day), [last.uid], rating="hard")
    today = last.day + dt.timedelta(days=1)
    assert bytes_without_timings(_replanned(sql, marked, today)) == \
        bytes_without_timings(_replanned(sql, _round_trip(marked, sql), today))


def test_retention_is_a_profile_field_the_plan_keeps(sql):
    lower = plan_ok(sql, background="beginner", hours_per_week=10, review_cap_percent=50, review_retention=0.8)
    assert lower.profile.review_retention == 0.8
    assert json.loads(plan_to_json(lower))["profile"]["review_retention"] == 0.8
    topic = lower.requirements.topics[0].id
    first = _reviews(lower, topic)[0]
    assert first.day == fsrs_due([(_last_study(lower, topic).day, "good")], retention=0.8)
    from planner.profile import profile_from_mapping

    for bad in (0.5, 1.0, "high", True):
        with pytest.raises(InputError, match="review_retention"):
            profile_from_mapping({"background": "beginner", "hours_per_week": 10, "start": "2027-01-04",
                                  "review_retention": bad}, sql)


def test_an_old_plan_with_fixed_review_days_reads_and_replans(sql):
    """A plan written before FSRS (review_days 1,7,30, no ratings, reviews at +1/+7/+30, some done) reads back;
    a re-plan keeps its done reviews and places the rest at FSRS due dates from its history."""
    plan, doc = read_plan_file(OLD_PLAN, curriculum=sql)
    assert "review_retention" not in doc["profile"] and doc["profile"]["review_days"] == [1, 7, 30]
    assert plan.profile.review_retention == 0.9
    today = dt.date(2027, 2, 2)
    new = _replanned(sql, plan, today)
    done = [s for s in plan.sessions if s.kind == "review" and s.status == "done"]
    assert done and all(next(n for n in new.sessions if n.uid == s.uid).status == "done" for s in done)
    for t in new.requirements.topics:
        history = [(_last_study(new, t.id).day, "good")] + [(s.day, "good") for s in _reviews(new, t.id, "done")]
        for r in _reviews(new, t.id):
            assert r.day >= max(fsrs_due(history), today)
            history.append((r.day, "good"))
    assert _round_trip(new, sql).sessions == new.sessions


def test_mark_rating_in_the_cli(tmp_path, capsys):
    """`planner mark PLAN --done UID --rating R` records the rating; --rating without --done is refused."""
    import shutil

    from planner.cli import main

    path = tmp_path / "plan.json"
    shutil.copy(OLD_PLAN, path)
    doc = json.loads(path.read_text())
    review = next(s for s in doc["sessions"] if s["kind"] == "review" and s["status"] == "planned")
    assert main(["mark", str(path), "--content", str(SQL_PATH), "--done", review["uid"], "--rating", "hard"]) == 0
    after = json.loads(path.read_text())
    assert next(s for s in after["sessions"] if s["uid"] == review["uid"])["rating"] == "hard"
    log = next(t for t in after["topics"] if t["id"] == review["topic"])["review_log"]
    assert {"date": review["start"][:10], "rating": "hard"} in log
    before = path.read_bytes()
    assert main(["mark", str(path), "--content", str(SQL_PATH), "--missed", review["uid"], "--rating", "easy"]) == 2
    assert "--rating" in capsys.readouterr().err and path.read_bytes() == before


def test_a_rating_moves_the_topics_next_reviews_at_once(sql, roomy):
    """Rated "again", a review brings the next one to the next day with room, under the same UID (SEQUENCE + 1, so
    calendars update it); rated "easy", the next one goes later. The validator agrees with where they are."""
    topic = roomy.requirements.topics[0].id
    first, second = _reviews(roomy, topic)[:2]
    completion = _last_study(roomy, topic).day
    for rating in ("again", "easy"):
        plan = mark_done(roomy, [first.uid], rating=rating)
        moved = next(s for s in plan.sessions if s.uid == second.uid)
        due = fsrs_due([(completion, "good"), (first.day, rating)])
        assert moved.day == _first_day_with_room(plan, due, moved) and moved.sequence == second.sequence + 1
        assert (moved.day < second.day) if rating == "again" else (moved.day > second.day)
        assert [str(p) for p in validate_plan(plan)] == []


def test_the_validator_flags_a_review_before_its_due_date(roomy):
    topic = roomy.requirements.topics[0].id
    first = _reviews(roomy, topic)[0]
    early = replace(first, start=first.start - dt.timedelta(days=1), end=first.end - dt.timedelta(days=1))
    plan = replace(roomy, sessions=tuple(early if s.uid == first.uid else s for s in roomy.sessions))
    assert "review-due" in {p.rule for p in validate_plan(plan)}
