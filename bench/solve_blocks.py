"""Benchmark: CP-SAT and the greedy baseline on a real block, a large program and a full year.

    .venv/bin/python bench/solve_blocks.py [--only block|large|year|compare] [--smoke]

Every solved schedule is judged by ``compliance.validate``; the Tier 1 count must be 0 (the
script exits 1 otherwise). Prints a line per solve as it goes, then the result table.
``--smoke``: every benchmark on the smallest synthetic programs, one week instead of a 28-day
block, time limits of a few seconds and a "year" of two weeks (tests/test_bench_solve_script.py
runs it).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import markdown_table, seconds
from rotaguard.compliance import validate
from rotaguard.domain import Schedule
from rotaguard.interchange.synth import synthesize
from rotaguard.solver import ScheduleProblem, solve
from rotaguard.solver.model import build

START = date(2026, 7, 2)  # Block 1 of 2026-27
HEADERS = [
    "instance",
    "algorithm",
    "status",
    "wall",
    "solver",
    "first feasible",
    "objective / bound / gap",
    "variables / constraints",
    "Tier 1",
    "Tier 2",
    "demand coverage",
]


@dataclass(frozen=True)
class Sizes:
    days: int  # of each solved range ("block")
    block: tuple[int, int]  # (residents, faculty) of the real block
    block_limit: float  # seconds
    large: tuple[int, int]
    large_limits: tuple[float, float]  # the short and the long run
    year_blocks: int
    year_limit: float
    seeds: tuple[int, ...]
    compare_limit: float


FULL = Sizes(28, (18, 8), 60, (90, 30), (10, 60), 13, 60, (1, 2, 3), 60)
SMOKE = Sizes(7, (8, 4), 5, (10, 4), (2, 5), 2, 5, (1, 2), 5)  # limits: caps; a week proves in about 1 s


def _label(program_size: tuple[int, int], days: int) -> str:
    return f"{program_size[0]} R + {program_size[1]} F, {days} days"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,g}"


def _gap(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _row(rows: list, instance: str, problem: ScheduleProblem, algorithm_label: str, **options) -> None:
    result = solve(problem, **options)
    report = validate(result.schedule, problem.program, start=problem.start, end=problem.end, resilience=False)
    metrics = report.metrics
    print(
        f"{instance} {algorithm_label}: status={result.status.value} wall={result.wall_seconds:.2f}s solver={result.solver_seconds and round(result.solver_seconds, 2)}s first_feasible="
        f"{result.first_feasible_seconds if result.first_feasible_seconds is None else round(result.first_feasible_seconds, 2)}s "
        f"objective={result.objective} bound={result.best_bound} gap={result.gap} vars={result.variables} "
        f"constraints={result.constraints} tier1={metrics.tier1_violations} tier2={metrics.tier2_warnings} "
        f"coverage={metrics.demand_coverage} penalties={result.penalties}",
        flush=True,
    )
    greedy = options.get("algorithm") == "greedy"
    rows.append(
        [
            instance,
            algorithm_label,
            result.status.value,
            seconds(result.wall_seconds),
            "—" if greedy else seconds(result.solver_seconds),
            seconds(result.first_feasible_seconds),
            _number(result.objective)
            if greedy
            else f"{_number(result.objective)} / {_number(result.best_bound)} / {_gap(result.gap)}",
            "—" if greedy else f"{result.variables:,} / {result.constraints:,}",
            metrics.tier1_violations,
            metrics.tier2_warnings,
            f"{metrics.demand_coverage:.1%}",
        ]
    )


def block(sizes: Sizes, rows: list) -> None:
    program = synthesize(residents=sizes.block[0], faculty=sizes.block[1], seed=1, start=START).to_program()
    problem = ScheduleProblem(program=program, start=START, end=START + timedelta(days=sizes.days - 1))
    began = time.perf_counter()
    size = build(problem).model.proto
    print(
        f"real block model: {len(size.variables)} variables, {len(size.constraints)} constraints, built in {time.perf_counter() - began:.2f}s"
    )
    instance = f"real block ({_label(sizes.block, sizes.days)})"
    limit = sizes.block_limit
    _row(rows, instance, problem, f"cp_sat free-running, {limit:g} s", timeout_seconds=limit, deterministic=False)
    _row(rows, instance, problem, f"cp_sat deterministic, {limit:g} s", timeout_seconds=limit, deterministic=True)
    _row(rows, instance, problem, "greedy", algorithm="greedy")


def large(sizes: Sizes, rows: list) -> None:
    program = synthesize(residents=sizes.large[0], faculty=sizes.large[1], seed=1, start=START).to_program()
    problem = ScheduleProblem(program=program, start=START, end=START + timedelta(days=sizes.days - 1))
    instance = f"large ({_label(sizes.large, sizes.days)})"
    for limit in sizes.large_limits:
        _row(rows, instance, problem, f"cp_sat free-running, {limit:g} s", timeout_seconds=limit, deterministic=False)
    _row(rows, instance, problem, "greedy", algorithm="greedy")


def year(sizes: Sizes, rows: list) -> None:
    program = synthesize(residents=sizes.block[0], faculty=sizes.block[1], seed=1, start=START).to_program()
    history = Schedule()
    began = time.perf_counter()
    statuses, walls = [], []
    for number in range(sizes.year_blocks):
        first = START + timedelta(days=sizes.days * number)
        problem = ScheduleProblem(
            program=program, start=first, end=first + timedelta(days=sizes.days - 1), existing=history
        )
        result = solve(problem, timeout_seconds=sizes.year_limit, deterministic=False)
        history = result.schedule
        statuses.append(result.status.value)
        walls.append(result.wall_seconds)
        print(
            f"  block {number + 1}: {result.status.value} {result.wall_seconds:.2f}s objective={result.objective}",
            flush=True,
        )
    total = time.perf_counter() - began
    days = sizes.days * sizes.year_blocks
    report = validate(history, program, start=START, end=START + timedelta(days=days - 1), resilience=False)
    metrics = report.metrics
    print(
        f"full year {sizes.year_blocks} blocks: {total:.1f}s total, tier1 across the year={metrics.tier1_violations}, coverage={metrics.demand_coverage}"
    )
    rows.append(
        [
            f"year: {sizes.year_blocks} blocks of {sizes.days} days of the real-block program, each with the earlier ones as history",
            f"cp_sat free-running, {sizes.year_limit:g} s a block",
            " ".join(f"{statuses.count(s)}× {s}" for s in sorted(set(statuses))),
            f"{total:.1f} s total ({min(walls):.1f}–{max(walls):.1f} s a block)",
            "—",
            "—",
            "—",
            "—",
            f"{metrics.tier1_violations} (judged as one {days}-day range)",
            metrics.tier2_warnings,
            f"{metrics.demand_coverage:.1%}",
        ]
    )


def compare(sizes: Sizes, rows: list) -> None:
    for seed in sizes.seeds:
        program = synthesize(residents=sizes.block[0], faculty=sizes.block[1], seed=seed, start=START).to_program()
        problem = ScheduleProblem(program=program, start=START, end=START + timedelta(days=sizes.days - 1))
        instance = f"real block ({_label(sizes.block, sizes.days)}), seed {seed}"
        limit = sizes.compare_limit
        _row(rows, instance, problem, f"cp_sat free-running, {limit:g} s", timeout_seconds=limit, deterministic=False)
        _row(rows, instance, problem, "greedy", algorithm="greedy")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["block", "large", "year", "compare"])
    parser.add_argument("--smoke", action="store_true", help="tiny programs, short time limits: the same code path")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    rows: list[list] = []
    for name, run in (("block", block), ("large", large), ("year", year), ("compare", compare)):
        if args.only in (None, name):
            run(sizes, rows)
    print()
    print(markdown_table(HEADERS, rows))
    broken = [row[0] + " " + row[1] for row in rows if not str(row[8]).startswith("0")]
    if broken:
        print(f"solve_blocks: Tier 1 violations in: {'; '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
