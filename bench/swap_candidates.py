"""Benchmark: ranking swap candidates on a 120-person program (goal: under 200 ms per request).

    .venv/bin/python bench/swap_candidates.py [--residents 90] [--faculty 30] [--requests 20] [--seed 1] [--smoke]

A synthetic program's block is filled by the greedy solver; then, for residents picked at
random, an open absorb request of one day of their duties is ranked (Tier 1 checked for each
candidate kept). Prints the median and p95 of the ranking time and how many candidates came back,
then the result table. ``--smoke``: 12 residents, 6 faculty, 2 requests (tests/test_bench_scripts.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import markdown_table

FULL = {"residents": 90, "faculty": 30, "requests": 20}
SMOKE = {"residents": 12, "faculty": 6, "requests": 2}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int)
    parser.add_argument("--faculty", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="a tiny program, two requests: the same code path")
    args = parser.parse_args()
    for name, value in (SMOKE if args.smoke else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    from rotaguard.domain.swaps import DateRange, SwapKind, SwapRequest
    from rotaguard.interchange.synth import synthesize
    from rotaguard.solver import ScheduleProblem, solve
    from rotaguard.swaps import rank_candidates

    start = dt.date(2026, 7, 2)
    end = start + dt.timedelta(days=27)
    document = synthesize(residents=args.residents, faculty=args.faculty, seed=args.seed, start=start)
    program = document.to_program()
    schedule = solve(
        ScheduleProblem(program=program, start=start, end=end), algorithm="greedy", timeout_seconds=60
    ).schedule
    rng = random.Random(args.seed)
    middle = [a for a in schedule.assignments if start + dt.timedelta(days=7) <= a.date <= end - dt.timedelta(days=7)]
    residents = {p.id for p in program.people if p.is_resident}
    picks = rng.sample([a for a in middle if a.person_id in residents], args.requests)

    timings, counts = [], []
    for pick in picks:
        request = SwapRequest(
            id="bench",
            requester_id=pick.person_id,
            kind=SwapKind.ABSORB,
            person_a=pick.person_id,
            range_a=DateRange(start=pick.date, end=pick.date),
        )
        began = time.perf_counter()
        ranked = rank_candidates(program, schedule, request)
        timings.append(time.perf_counter() - began)
        counts.append(len(ranked))
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(
        f"people={len(program.people)} assignments={len(schedule.assignments)} requests={len(picks)} "
        f"rank median {1000 * statistics.median(timings):.0f} ms, p95 {1000 * p95:.0f} ms, max {1000 * timings[-1]:.0f} ms; "
        f"candidates per request median {statistics.median(counts):g}, min {min(counts)}"
    )
    print()
    print(
        markdown_table(
            ["people", "assignments", "requests", "rank median", "p95", "max", "candidates per request (min / max)"],
            [
                [
                    len(program.people),
                    f"{len(schedule.assignments):,}",
                    len(picks),
                    f"{1000 * statistics.median(timings):.0f} ms",
                    f"{1000 * p95:.0f} ms",
                    f"{1000 * timings[-1]:.0f} ms",
                    f"{min(counts)} / {max(counts)}",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
