"""Benchmark: CP-SAT and the greedy baseline on a real block, a large program and a full year.

    .venv/bin/python bench/solve_blocks.py [--only block|large|year|compare]

Every solved schedule is judged by ``compliance.validate``; the Tier 1 count must be 0.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from rotaguard.compliance import validate
from rotaguard.domain import Schedule
from rotaguard.interchange.synth import synthesize
from rotaguard.solver import ScheduleProblem, solve
from rotaguard.solver.model import build

START = date(2026, 7, 2)  # Block 1 of 2026-27


def _row(label: str, problem: ScheduleProblem, **options) -> tuple:
    result = solve(problem, **options)
    report = validate(result.schedule, problem.program, start=problem.start, end=problem.end, resilience=False)
    print(
        f"{label}: status={result.status.value} wall={result.wall_seconds:.2f}s solver={result.solver_seconds and round(result.solver_seconds, 2)}s first_feasible="
        f"{result.first_feasible_seconds if result.first_feasible_seconds is None else round(result.first_feasible_seconds, 2)}s "
        f"objective={result.objective} bound={result.best_bound} gap={result.gap} vars={result.variables} "
        f"constraints={result.constraints} tier1={report.metrics.tier1_violations} tier2={report.metrics.tier2_warnings} "
        f"coverage={report.metrics.demand_coverage} penalties={result.penalties}",
        flush=True,
    )
    return result, report


def block() -> None:
    program = synthesize(residents=18, faculty=8, seed=1, start=START).to_program()
    problem = ScheduleProblem(program=program, start=START, end=START + timedelta(days=27))
    began = time.perf_counter()
    size = build(problem).model.proto
    print(
        f"real block model: {len(size.variables)} variables, {len(size.constraints)} constraints, built in {time.perf_counter() - began:.2f}s"
    )
    _row("real block cp_sat portfolio (2 workers)", problem, timeout_seconds=60, deterministic=False)
    _row("real block cp_sat deterministic (2 workers)", problem, timeout_seconds=60, deterministic=True)
    _row("real block greedy", problem, algorithm="greedy")


def large() -> None:
    program = synthesize(residents=90, faculty=30, seed=1, start=START).to_program()
    problem = ScheduleProblem(program=program, start=START, end=START + timedelta(days=27))
    _row("large 90+30 cp_sat 10 s", problem, timeout_seconds=10, deterministic=False)
    _row("large 90+30 cp_sat 60 s", problem, timeout_seconds=60, deterministic=False)
    _row("large 90+30 greedy", problem, algorithm="greedy")


def year() -> None:
    program = synthesize(residents=18, faculty=8, seed=1, start=START).to_program()
    history = Schedule()
    began = time.perf_counter()
    worst = 0
    for number in range(13):
        first = START + timedelta(days=28 * number)
        problem = ScheduleProblem(program=program, start=first, end=first + timedelta(days=27), existing=history)
        result = solve(problem, timeout_seconds=60, deterministic=False)
        history = result.schedule
        print(
            f"  block {number + 1}: {result.status.value} {result.wall_seconds:.2f}s objective={result.objective}",
            flush=True,
        )
    total = time.perf_counter() - began
    report = validate(history, program, start=START, end=START + timedelta(days=13 * 28 - 1), resilience=False)
    worst = report.metrics.tier1_violations
    print(
        f"full year 13 blocks: {total:.1f}s total, tier1 across the year={worst}, coverage={report.metrics.demand_coverage}"
    )


def compare() -> None:
    for seed in (1, 2, 3):
        program = synthesize(residents=18, faculty=8, seed=seed, start=START).to_program()
        problem = ScheduleProblem(program=program, start=START, end=START + timedelta(days=27))
        _row(f"seed {seed} cp_sat", problem, timeout_seconds=60, deterministic=False)
        _row(f"seed {seed} greedy", problem, algorithm="greedy")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["block", "large", "year", "compare"])
    args = parser.parse_args()
    for name, run in (("block", block), ("large", large), ("year", year), ("compare", compare)):
        if args.only in (None, name):
            run()


if __name__ == "__main__":
    main()
