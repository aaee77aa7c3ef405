"""Benchmark: validate a full academic year (13 blocks) of a 120-person program.

    .venv/bin/python bench/validate_year.py [--residents 90 --faculty 30 --repeat 5] [--smoke]

Prints the assignment count and the wall time of ``compliance.validate`` (rules, coverage
and metrics; N-1/N-2 off), the median of several runs, then one block with N-1/N-2 on, and
the result table. ``--smoke``: the same year on the smallest synthetic program (8 residents,
4 faculty), validated once (tests/test_bench_scripts.py runs it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import markdown_table
from pattern import pattern_schedule
from rotaguard.compliance import validate
from rotaguard.interchange.synth import synthesize

YEAR_START = date(2026, 7, 2)  # Block 1 of 2026-27
FULL = {"residents": 90, "faculty": 30, "repeat": 5}
SMOKE = {"residents": 8, "faculty": 4, "repeat": 1}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int)
    parser.add_argument("--faculty", type=int)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--smoke", action="store_true", help="a tiny program, one run: the same code path")
    args = parser.parse_args()
    for name, value in (SMOKE if args.smoke else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    program = synthesize(residents=args.residents, faculty=args.faculty, seed=1, start=YEAR_START).to_program()
    year_end = YEAR_START + timedelta(days=13 * 28 - 1)
    schedule = pattern_schedule(program, start=YEAR_START, days=13 * 28)
    print(f"people={len(program.people)} days={13 * 28} assignments={len(schedule.assignments)}")

    times = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        report = validate(schedule, program, start=YEAR_START, end=year_end, resilience=False)
        times.append(time.perf_counter() - began)
    print(
        f"year validate (no N-1): median {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
        f"over {args.repeat} runs; tier1={report.metrics.tier1_violations} tier2={report.metrics.tier2_warnings} "
        f"gaps={report.metrics.coverage_gaps}"
    )

    block_end = YEAR_START + timedelta(days=27)
    began = time.perf_counter()
    block = validate(schedule, program, start=YEAR_START, end=block_end, resilience=True)
    block_seconds = time.perf_counter() - began
    print(
        f"one block with N-1/N-2: {block_seconds:.3f} s; n1_failures={block.metrics.n1_failures} "
        f"n2_failures={block.metrics.n2_failures}"
    )
    print()
    print(
        markdown_table(
            [
                "people",
                "days",
                "assignments",
                f"year validate (median of {args.repeat})",
                "Tier 1",
                "Tier 2",
                "one block with N-1/N-2",
                "N-1 failures",
            ],
            [
                [
                    len(program.people),
                    13 * 28,
                    f"{len(schedule.assignments):,}",
                    f"{statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})",
                    report.metrics.tier1_violations,
                    report.metrics.tier2_warnings,
                    f"{block_seconds:.3f} s",
                    block.metrics.n1_failures,
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
