"""Benchmark: the block solver on dense, leave-heavy, request-heavy and short-staffed programs,
against the previous solver in the same run.

    .venv/bin/python bench/solve_dense.py [--cases NAME ...] [--limit SECONDS] [--baseline REV]
                                          [--deterministic] [--smoke]

For each case of ``dense_cases.py`` (v1 programs at 26, 90 and 150 people and the realistic
profiles at 36 and 90 residents): build it, solve one 28-day block with CP-SAT (2 workers) and
judge the result with ``compliance.validate``. Each solve runs in its own process, once with
this tree's solver ("now") and, with ``--baseline REV``, once with the solver of git revision
REV ("before": its ``src`` exported to a temporary directory), so both face the same machine
in the same run. Prints a line per solve, then the table BENCHMARKS.md quotes; exits 1 when a
"now" solve breaks a Tier 1 rule or its penalties disagree with validate's findings.
``--smoke``: a few cases, one week, a few seconds (tests/test_bench_scripts.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchtable import markdown_table, seconds  # noqa: E402
from dense_cases import ALL_CASES, SMOKE_CASES  # noqa: E402

HEADERS = [
    "case",
    "people",
    "solver",
    "status",
    "first feasible",
    "wall",
    "objective / bound / gap",
    "staffing short (proved?)",
    "levels (value / bound)",
    "Tier 1",
    "Tier 2",
    "demand coverage",
    "penalties = validate",
]


def solve_one(case: str, limit: float, days: int, deterministic: bool) -> dict:
    """Solve ``case`` with whichever ``rotaguard`` this process imports; figures as a dict."""
    from dense_cases import build_case, penalty_mismatches
    from rotaguard.compliance import validate
    from rotaguard.solver import solve

    program, problem = build_case(case, days=days)
    began = time.perf_counter()
    result = solve(problem, timeout_seconds=limit, deterministic=deterministic)
    wall = time.perf_counter() - began
    report = validate(result.schedule, program, start=problem.start, end=problem.end, resilience=False)
    levels = getattr(result, "levels", ())
    staffing = next((level for level in levels if level.id == "staffing"), None)
    short = sum(max(0, g.required - g.assigned) for g in report.coverage_gaps)
    return {
        "case": case,
        "people": len(program.people),
        "status": result.status.value,
        "first_feasible": result.first_feasible_seconds,
        "wall": wall,
        "objective": result.objective,
        "bound": result.best_bound,
        "gap": result.gap,
        "staffing_short": short,
        "staffing_proved": None if staffing is None else staffing.proved,
        "levels": [(level.id, level.value, level.bound) for level in levels],
        "shortfalls": list(getattr(result, "shortfalls", ())),
        "tier1": report.metrics.tier1_violations,
        "tier2": report.metrics.tier2_warnings,
        "coverage": report.metrics.demand_coverage,
        "mismatches": penalty_mismatches(result, report, problem.weights) if levels else None,
    }


def _run(case: str, source: Path, args: argparse.Namespace, days: int) -> dict:
    command = [sys.executable, str(Path(__file__)), "--one", case, "--limit", str(args.limit), "--days", str(days)]
    if args.deterministic:
        command.append("--deterministic")
    env = dict(os.environ, PYTHONPATH=str(source))
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case} ({source}): exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _row(label: str, figures: dict) -> list[object]:
    gap = figures["gap"]
    objective = "—" if figures["objective"] is None else f"{figures['objective']:,.0f}"
    bound = "—" if figures["bound"] is None else f"{figures['bound']:,.0f}"
    proved = {None: "", True: " (proved)", False: " (not proved)"}[figures["staffing_proved"]]
    levels = ", ".join(f"{name} {value:,.0f}/{bound_:,.0f}" for name, value, bound_ in figures["levels"]) or "—"
    mismatches = figures["mismatches"]
    agree = "—" if mismatches is None else ("yes" if not mismatches else f"no: {mismatches}")
    return [
        figures["case"],
        figures["people"],
        label,
        figures["status"],
        "—" if figures["first_feasible"] is None else seconds(figures["first_feasible"]),
        seconds(figures["wall"]),
        f"{objective} / {bound} / {'—' if gap is None else f'{100 * gap:.2f}%'}",
        f"{figures['staffing_short']}{proved}",
        levels,
        figures["tier1"],
        figures["tier2"],
        f"{100 * figures['coverage']:.1f}%",
        agree,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--limit", type=float, default=60.0, help="solver time limit per solve, seconds")
    parser.add_argument("--baseline", help="also solve with the solver of this git revision")
    parser.add_argument("--deterministic", action="store_true", help="interleaved, repeatable search")
    parser.add_argument("--smoke", action="store_true", help="a few cases, one week, short limits")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, default=28, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(solve_one(args.one, args.limit, args.days, args.deterministic)))
        return 0
    days = 7 if args.smoke else 28
    if args.smoke:
        args.limit = min(args.limit, 10.0)
    names = args.cases or (list(SMOKE_CASES) if args.smoke else [case.name for case in ALL_CASES])
    sources: list[tuple[str, Path]] = [("now", HERE.parent / "src")]
    with tempfile.TemporaryDirectory() as scratch:
        if args.baseline:
            sources.insert(0, (f"before ({args.baseline})", _export(args.baseline, Path(scratch))))
        rows, failed = [], False
        for name in names:
            for label, source in sources:
                figures = _run(name, source, args, days)
                print(f"{name} [{label}]: {json.dumps(figures)}", flush=True)
                rows.append(_row(label, figures))
                if label == "now" and (figures["tier1"] or figures["mismatches"]):
                    failed = True
    print(markdown_table(HEADERS, rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
