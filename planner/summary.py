"""Plain-text summaries of a plan for the terminal."""

from __future__ import annotations

from planner.availability import calendar_summary
from planner.fidelity import milestone_fits, phase_shares
from planner.focus import focus_report
from planner.plan import Plan
from planner.replan import buffer_words


def plan_summary(plan: Plan) -> str:
    req, p = plan.requirements, plan.profile
    rows = plan.phase_rows()
    width = max((len(r["title"]) for r in rows), default=10)
    lines = [f"{plan.path_title} — {req.background.replace('_', ' ')}", ""]
    lines.append(f"{'Phase':<6} {'Title':<{width}}  {'Start':<10}  {'Finish':<10}  {'Hours':>7}")
    for r in rows:
        lines.append(f"{r['phase']:<6} {r['title']:<{width}}  {r['start']}  {r['finish']}  {r['hours']:>7.1f}")
    lines.append("")
    inside = (plan.latest_allowed_finish is None or plan.finish <= plan.latest_allowed_finish) and (
        plan.earliest_allowed_finish is None or plan.finish >= plan.earliest_allowed_finish)
    lines.append(f"Start {p.start}, finish {plan.finish}: {plan.months:.1f} months "
                 f"({'inside' if inside else 'OUTSIDE'} the {req.months_min}-{req.months_max} month range)")
    lines.append(f"Study {plan.total_hours:g} h in {len(plan.active_sessions)} sessions; "
                 f"{plan.mean_week_hours:.1f} h/week on average, {plan.peak_week_hours:g} h/week at most, "
                 f"of {p.hours_per_week:g} h/week offered")
    if plan.paced:
        lines.append(f"Paced: you offered more time than the range needs, so the plan finishes at the range's "
                     f"minimum and uses about {plan.mean_week_hours:.1f} of your {p.hours_per_week:g} h/week.")
    reviews = [s for s in plan.active_sessions if s.kind == "review"]
    checkpoints = [s for s in plan.active_sessions if s.kind == "checkpoint"]
    projects = {s.topic for s in plan.active_sessions if s.kind == "project"}
    lines.append(f"Includes {len(projects)} portfolio projects, {len(checkpoints)} checkpoint sessions and "
                 f"{len(reviews)} spaced reviews"
                 + (f" ({plan.reviews_skipped} reviews found no room; more weekly hours would fit them)"
                    if plan.reviews_skipped else "")
                 + f"; {buffer_words(plan)}.")
    lines.append("Focus: " + focus_report(plan).text())
    free = calendar_summary(plan)  # windows and busy calendars, when the learner has them
    if free:
        lines.append(free)
    shares = phase_shares(plan)
    if shares:
        lines.append("")
        lines.append("Fidelity to the path (share of study hours vs share of its weeks, target ±5 points):")
        for sh in shares:
            mark = "ok" if sh.within else "off"
            lines.append(f"  Phase {sh.phase} {sh.title:<{width}}  {sh.share:5.1f} % vs {sh.weeks_share:5.1f} %  "
                         f"{mark}")
    fits = milestone_fits(plan)
    if fits:
        lines.append("")
        lines.append("Checklist milestones:")
        for m, fit in zip(plan.checklist, fits, strict=True):
            rng = f"{m.months_min}-{m.months_max}" if m.months_max else f"{m.months_min}+"
            when = f"{m.date} ({fit.months:.1f} mo)" if m.date and fit.months is not None else "not in this plan"
            lines.append(f"  {m.stage:<12} {when:<22} path: {rng:<5} months  {fit.verdict:<8} {m.title}")
    s = plan.solver
    lines.append("")
    lines.append(f"Solver: {s.status} in {s.seconds:.3f} s (model built in {s.build_seconds:.3f} s), "
                 f"objective {s.objective:g}, bound {s.bound:g}; focus pass {s.focus_seconds:.3f} s, "
                 f"{s.focus_changed_days} days reshaped")
    return "\n".join(lines)
