"""Benchmark: the year planner on the internal-medicine profile, from scratch and in a re-plan.

    .venv/bin/python bench/plan_year.py [--residents N ...] [--time-limit SECONDS]
                                        [--replan-time-limit SECONDS] [--deterministic] [--smoke]

Cases, for each ``--residents`` size (default 36, 90 and 150):

- ``scratch``: ``synthesize_profile("internal-medicine", residents=N, seed=1)`` with its plan
  removed, planned for the whole 13-block year;
- ``conflicts``: the same, with every vacation request and approved vacation replaced by two
  two-week requests per resident in the winter blocks 6 and 7 (the profile's own requests are
  all satisfiable, so its optimum says little; these cannot all be met, the optimum is positive);
- ``replan``: the profile's published plan, one resident on a leave of absence for blocks 7-9
  (the first whose leave takes a rotation below its capacity minimum, so someone else must move
  in), re-planned from block 7 with ``minimize_changes``.

Every plan is judged by the compliance engine (``validate`` over the year): the table's
``plan findings`` column counts ``plan.capacity`` and ``curriculum.requirements`` findings, and a
re-plan must keep every row before block 7 as it was. Prints a line per case, then the table
BENCHMARKS.md quotes ("Year planner"); exits 1 when a plan breaks a rule the compliance engine
judges, or a re-plan moved an earlier block. ``--smoke``: 24 residents, a few seconds
(tests/planner/test_bench_plan_year.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchtable import markdown_table, seconds  # noqa: E402

HEADERS = [
    "case",
    "residents",
    "status",
    "wall",
    "objective / bound / gap",
    "terms (units x weight)",
    "changed blocks",
    "plan findings",
]
PLAN_RULES = {"plan.capacity", "curriculum.requirements"}
REPLAN_FROM = 7
LEAVE_BLOCKS = (7, 8, 9)


def _conflicting(program):  # type: ignore[no-untyped-def]
    from rotaguard.domain import ProgramRequest, RequestKind

    blocks = {b.number: b for b in program.year_blocks()}
    requests = [q for q in program.requests if q.kind is not RequestKind.VACATION]
    for person in (p for p in program.people if p.is_resident):
        for priority, number in ((1, 6), (2, 7)):
            start = blocks[number].start
            requests.append(
                ProgramRequest(
                    person_id=person.id,
                    kind=RequestKind.VACATION,
                    start=start,
                    end=start + timedelta(days=13),
                    priority=priority,
                )
            )
    return program.model_copy(
        update={"requests": tuple(requests), "absences": tuple(a for a in program.absences if a.kind != "vacation")}
    )


def _leave_person(program) -> str:  # type: ignore[no-untyped-def]
    """The first resident whose leave takes a rotation below its minimum in blocks 7-9 (so the
    re-plan must move someone else in, not only drop the leave's rows); else the first resident."""
    blocks = {b.number: b for b in program.year_blocks()}
    residents = sorted((p for p in program.people if p.is_resident), key=lambda p: p.id)
    for person in residents:
        for number in LEAVE_BLOCKS:
            entry = program.planned(person.id, blocks[number].start)
            rotation = None if entry is None else program.block_rotations_by_id.get(entry.rotation_id)
            group = None if rotation is None else rotation.capacity_for(person.pgy or 0)
            if group is None:
                continue
            on = sum(
                1
                for e in program.plan
                if e.rotation_id == rotation.id
                and e.covers(blocks[number].start)
                and (program.people_by_id[e.person_id].pgy in group.pgy)
            )
            if on == group.min:
                return person.id
    return residents[0].id


def _with_leave(program):  # type: ignore[no-untyped-def]
    from rotaguard.domain import Absence

    blocks = {b.number: b for b in program.year_blocks()}
    person = _leave_person(program)
    leave = Absence(
        person_id=person, start=blocks[LEAVE_BLOCKS[0]].start, end=blocks[LEAVE_BLOCKS[-1]].end, kind="leave"
    )
    # Approved vacations the leave swallows go with it.
    kept = tuple(a for a in program.absences if not (a.person_id == person and leave.start <= a.start <= leave.end))
    return program.model_copy(update={"absences": (*kept, leave)}), person


def run_case(case: str, residents: int, limit: float, deterministic: bool) -> dict:
    from rotaguard.compliance import validate
    from rotaguard.domain import Schedule
    from rotaguard.interchange.profiles import synthesize_profile
    from rotaguard.planner import YearProblem, merged_plan, plan_year

    program = synthesize_profile("internal-medicine", residents=residents, seed=1)
    from_block, minimize = 1, False
    if case == "scratch":
        program = program.model_copy(update={"plan": ()})
    elif case == "conflicts":
        program = _conflicting(program.model_copy(update={"plan": ()}))
    else:
        program, on_leave = _with_leave(program)
        case = f"replan ({on_leave} on leave 7-9)"
        from_block, minimize = REPLAN_FROM, True
    problem = YearProblem(
        program=program,
        from_block=from_block,
        minimize_changes=minimize,
        time_limit_seconds=limit,
        deterministic=deterministic,
    )
    began = time.perf_counter()
    result = plan_year(problem)
    wall = time.perf_counter() - began
    blocks = program.year_blocks()
    first_planned = blocks[from_block - 1].start
    earlier = sorted((e for e in program.plan if e.start < first_planned), key=lambda e: (e.person_id, e.start))
    merged = merged_plan(problem, result)
    # Rows before the re-plan's first block that are not exactly as published, or new ones there.
    moved = len(set(earlier) ^ {e for e in merged if e.start < first_planned})
    planned = program.model_copy(update={"plan": merged})
    report = validate(Schedule(), planned, start=blocks[0].start, end=blocks[-1].end, resilience=False)
    findings = [v.message for v in report.violations if v.rule_id in PLAN_RULES]
    return {
        "case": case,
        "residents": residents,
        "status": result.status.value,
        "wall": wall,
        "objective": result.objective,
        "bound": result.best_bound,
        "gap": result.gap,
        "terms": [(t.id, t.units, t.weight) for t in result.terms if t.units],
        "changed": result.changed_blocks,
        "proved": result.changes_proved_minimal,
        "findings": findings,
        "moved": moved,
        "explanation": list(result.explanation),
    }


def _row(figures: dict) -> list[object]:
    gap = figures["gap"]
    objective = "—" if figures["objective"] is None else f"{figures['objective']:g}"
    bound = "—" if figures["bound"] is None else f"{figures['bound']:g}"
    terms = ", ".join(f"{name} {units}x{weight}" for name, units, weight in figures["terms"]) or "none"
    if figures["changed"] is None:
        changed = "—"
    else:
        changed = f"{figures['changed']}" + (" (proved minimal)" if figures["proved"] else "")
    return [
        figures["case"],
        figures["residents"],
        figures["status"],
        seconds(figures["wall"]),
        f"{objective} / {bound} / {'—' if gap is None else f'{100 * gap:.2f}%'}",
        terms,
        changed,
        len(figures["findings"]) + figures["moved"],
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, nargs="+", default=[36, 90, 150])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per from-scratch plan")
    parser.add_argument("--replan-time-limit", type=float, default=30.0, help="seconds for the re-plan")
    parser.add_argument("--cases", nargs="+", default=["scratch", "conflicts", "replan"])
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="24 residents, a few seconds")
    args = parser.parse_args()
    if args.smoke:
        args.residents, args.time_limit, args.replan_time_limit = [24], 5.0, 5.0
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the start: {load:.2f}; {os.cpu_count()} cores", flush=True)
    rows = []
    failed = False
    for residents in args.residents:
        for case in args.cases:
            limit = args.replan_time_limit if case == "replan" else args.time_limit
            figures = run_case(case, residents, limit, args.deterministic)
            print(
                f"{case} {residents}: {figures['status']} in {figures['wall']:.1f} s, objective {figures['objective']}, "
                f"bound {figures['bound']}, plan findings {len(figures['findings'])}, moved {figures['moved']}",
                flush=True,
            )
            for line in figures["findings"][:5] + figures["explanation"]:
                print(f"  {line}", flush=True)
            failed = failed or bool(figures["findings"]) or figures["moved"] > 0 or figures["objective"] is None
            rows.append(_row(figures))
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print()
    print(markdown_table(HEADERS, rows))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
