"""Benchmark: the block solver on realistic synthetic programs (issue 19).

    .venv/bin/python bench/solve_profiles.py [--profile internal-medicine|family-medicine] [--residents N ...]
                                             [--limit SECONDS] [--smoke]

For each profile and size: synthesize the program (seed 1), solve its first block of the
academic year on the plan with CP-SAT (2 workers unless --workers), judge it with
``compliance.validate``, and check what a coordinator checks by eye: every resident duty is one
of their planned rotation's (or their clinic or didactics), weekly hours over the days present,
night-float runs, the 14 free hours after each 24-hour call, and the weekly clinic. Prints a
line per solve, then the table BENCHMARKS.md quotes. Exits 1 when a solve has a Tier 1
violation. ``--smoke``: the smallest sizes, one week, a few seconds (tests/test_bench_scripts.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import markdown_table, seconds
from rotaguard.compliance import validate
from rotaguard.domain import Program, Schedule, ShiftKind
from rotaguard.interchange.profiles import Profile, synthesize_profile
from rotaguard.solver import ScheduleProblem, solve

HEADERS = [
    "profile",
    "residents",
    "days",
    "status",
    "first feasible",
    "wall",
    "objective / bound / gap",
    "Tier 1",
    "Tier 2",
    "demand coverage",
    "fill rate",
    "outside plan",
    "weekly hours (min–max)",
    "24-h calls rested",
    "clinic weeks",
]


@dataclass(frozen=True)
class Figures:
    outside_plan: int
    weekly_hours: tuple[float, float]
    calls: int
    calls_rested: int
    clinic_weeks: int
    clinic_weeks_expected: int


def coordinator_figures(program: Program, schedule: Schedule, start, end) -> Figures:
    """What a coordinator checks on the grid, computed from the rows and the program alone."""
    days = (end - start).days + 1
    outside = 0
    hours: dict[str, float] = {}
    present: dict[str, int] = {}
    calls = rested = 0
    clinic_done = clinic_expected = 0
    by_person: dict[str, list] = {}
    for a in schedule.assignments:
        if start <= a.date <= end:
            by_person.setdefault(a.person_id, []).append(a)
    for person in program.people:
        if not person.is_resident:
            continue
        duties = sorted(by_person.get(person.id, []), key=lambda a: program.interval(a).start_utc)
        for a in duties:
            rotation = program.planned_rotation(person.id, a.date)
            in_pattern = rotation is not None and any(
                d.service == a.rotation_id and d.shift == a.slot for d in rotation.pattern.duties
            )
            is_clinic = a.rotation_id == program.clinic_service and person.clinic is not None
            is_didactics = a.rotation_id == program.didactics_service
            if not (in_pattern or is_clinic or is_didactics):
                outside += 1
        present[person.id] = sum(1 for i in range(days) if not program.absent(person.id, start + timedelta(days=i)))
        hours[person.id] = sum(program.interval(a).hours for a in duties)
        for index, a in enumerate(duties):
            if program.shift(a.slot).kind is ShiftKind.CALL_24:
                calls += 1
                end_of_call = program.interval(a).end_utc
                following = duties[index + 1 :]
                if not following or (program.interval(following[0]).start_utc - end_of_call) >= timedelta(hours=14):
                    rested += 1
        if person.clinic is not None:
            for week in range(days // 7):
                clinic_day = next(
                    (
                        start + timedelta(days=week * 7 + i)
                        for i in range(7)
                        if (start + timedelta(days=week * 7 + i)).strftime("%a").lower() == person.clinic.day.value
                    ),
                    None,
                )
                if clinic_day is None or program.absent(person.id, clinic_day):
                    continue
                rotation = program.planned_rotation(person.id, clinic_day)
                if rotation is None or not rotation.clinic:
                    continue
                clinic_expected += 1
                if any(a.date == clinic_day and a.slot == person.clinic.shift for a in duties):
                    clinic_done += 1
    weekly = [hours[p] / (present[p] / 7) for p in hours if present[p] >= 7]
    low, high = (min(weekly), max(weekly)) if weekly else (0.0, 0.0)
    return Figures(outside, (low, high), calls, rested, clinic_done, clinic_expected)


def night_runs(program: Program, schedule: Schedule) -> list[int]:
    """The lengths of every run of consecutive night shifts, per person."""
    nights: dict[str, list] = {}
    for a in schedule.assignments:
        if program.shift(a.slot).kind is ShiftKind.NIGHT:
            nights.setdefault(a.person_id, []).append(a.date)
    runs = []
    for dates in nights.values():
        dates.sort()
        length = 1
        for earlier, later in zip(dates, dates[1:], strict=False):
            if later - earlier == timedelta(days=1):
                length += 1
            else:
                runs.append(length)
                length = 1
        runs.append(length)
    return runs


def run_one(profile: Profile, residents: int, days: int, limit: float, workers: int, rows: list) -> bool:
    program = synthesize_profile(profile, residents=residents, seed=1)
    assert program.year is not None
    start = program.year.blocks[0].start
    end = start + timedelta(days=days - 1)
    result = solve(
        ScheduleProblem(program=program, start=start, end=end),
        timeout_seconds=limit,
        workers=workers,
        deterministic=False,
    )
    report = validate(result.schedule, program, start=start, end=end, resilience=False)
    metrics = report.metrics
    figures = coordinator_figures(program, result.schedule, start, end)
    runs = night_runs(program, result.schedule.between(start, end))
    print(
        f"{profile.value} {residents}: status={result.status.value} wall={result.wall_seconds:.1f}s "
        f"first_feasible={result.first_feasible_seconds} objective={result.objective} bound={result.best_bound} "
        f"gap={result.gap} tier1={metrics.tier1_violations} tier2={sorted({v.rule_id for v in report.tier2})} coverage={metrics.demand_coverage} "
        f"fill={metrics.fill_rate} outside={figures.outside_plan} hours={figures.weekly_hours} "
        f"calls={figures.calls_rested}/{figures.calls} clinic={figures.clinic_weeks}/{figures.clinic_weeks_expected} "
        f"night_runs={sorted(set(runs))} median_run={statistics.median(runs) if runs else None}",
        flush=True,
    )
    gap = "—" if result.gap is None else f"{result.gap:.1%}"
    rows.append(
        [
            profile.value,
            residents,
            days,
            result.status.value,
            seconds(result.first_feasible_seconds),
            seconds(result.wall_seconds),
            f"{result.objective:,g} / {result.best_bound:,g} / {gap}" if result.objective is not None else "—",
            metrics.tier1_violations,
            metrics.tier2_warnings,
            f"{metrics.demand_coverage:.1%}",
            f"{metrics.fill_rate:.1%}",
            figures.outside_plan,
            f"{figures.weekly_hours[0]:.0f}–{figures.weekly_hours[1]:.0f}",
            f"{figures.calls_rested}/{figures.calls}",
            f"{figures.clinic_weeks}/{figures.clinic_weeks_expected}",
        ]
    )
    return metrics.tier1_violations == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", type=Profile, choices=[p for p in Profile if p is not Profile.MINIMAL])
    parser.add_argument("--residents", type=int, nargs="+")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="smallest sizes, one week, a few seconds")
    args = parser.parse_args()
    profiles = [args.profile] if args.profile else [p for p in Profile if p is not Profile.MINIMAL]
    sizes = args.residents or ([24] if args.smoke else [36, 90])
    days = 7 if args.smoke else 28
    limit = min(args.limit, 10.0) if args.smoke else args.limit
    rows: list[list] = []
    outcomes = [run_one(p, n, days, limit, args.workers, rows) for p in profiles for n in sizes]
    clean = all(outcomes)
    print()
    print(markdown_table(HEADERS, rows))
    if not clean:
        print("solve_profiles: a solve has Tier 1 violations", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
