"""Benchmark: the whole generation flow (auto-approved) against the bare solve of the same block.

    .venv/bin/python bench/flow_overhead.py [--database-url URL] [--smoke]

Default: a throwaway SQLite file (in a temporary home, removed at exit). For PostgreSQL pass a
URL of an empty database you may drop tables in. Prefect runs on its local ephemeral API, or on
the server PREFECT_API_URL names; its one-time start (the first call to the API: making sure of
the schedule-writes limit) is reported apart. The bare solve and the flow's solve use the same
solver settings (CP-SAT, deterministic, the same time limit). Prints the result table; exits 1
when the flow does not publish.
``--smoke``: one week of the smallest synthetic program, a 5 s time limit (tests/test_bench_scripts.py
runs it on SQLite and PostgreSQL against the test session's Prefect API).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import markdown_table, seconds

FULL = {"residents": 18, "faculty": 8, "days": 28, "timeout": 120}
# A week of the smallest program: both solves prove it optimal in about a second; 5 s (the least
# GenerateParams allows) is only their cap.
SMOKE = {"residents": 8, "faculty": 4, "days": 7, "timeout": 5}
# The synthetic program's coordinator, who may approve a generation.
APPROVER = "C-01"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument(
        "--smoke", action="store_true", help="a week of a tiny program, a 5 s limit: the same code path"
    )
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    home = Path(tempfile.mkdtemp(prefix="rotaguard-flow-overhead-"))
    # Registered before Prefect's own exit handlers, so it runs after them (its server stopped).
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["ROTAGUARD_HOME"] = str(home)
    os.environ["ROTAGUARD_DATABASE_URL"] = args.database_url or f"sqlite:///{home / 'rotaguard.db'}"
    os.environ["ROTAGUARD_BACKUP_DIR"] = str(home / "backups")
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect gives its ephemeral server 20 s by default: not always enough on 2 shared cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

    from rotaguard.db import Database
    from rotaguard.db.migrate import upgrade
    from rotaguard.deployments.limits import ensure_concurrency_limit
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
    from rotaguard.interchange.importer import import_document
    from rotaguard.interchange.synth import synthesize
    from rotaguard.solver import ScheduleProblem, solve

    start = dt.date(2026, 7, 2)
    end = start + dt.timedelta(days=sizes["days"] - 1)
    document = synthesize(residents=sizes["residents"], faculty=sizes["faculty"], seed=1, start=start)
    database = Database(os.environ["ROTAGUARD_DATABASE_URL"])
    try:
        upgrade(database)
        import_document(database, document, actor="bench", source="synth")

        began = time.perf_counter()
        bare = solve(
            ScheduleProblem(program=document.to_program(), start=start, end=end), timeout_seconds=sizes["timeout"]
        )
        bare_seconds = time.perf_counter() - began

        began = time.perf_counter()
        limit = ensure_concurrency_limit()
        prefect_start = time.perf_counter() - began

        began = time.perf_counter()
        outcome = generate_schedule(
            GenerateParams(start=start, end=end, auto_approve_as=APPROVER, timeout_seconds=sizes["timeout"])
        )
        flow_seconds = time.perf_counter() - began
        kind = database.kind
    finally:
        database.dispose()
    overhead = flow_seconds - bare_seconds
    print(
        f"{kind}: bare solve {bare_seconds:.2f}s ({bare.status.value}); flow {flow_seconds:.2f}s ({outcome.status}); "
        f"overhead {overhead:.2f}s; Prefect API first start {prefect_start:.2f}s (schedule-writes limit {limit})"
    )
    print()
    print(
        markdown_table(
            ["database", "program", "bare solve", "whole flow", "overhead", "Prefect API first start"],
            [
                [
                    kind,
                    f"{sizes['residents']} R + {sizes['faculty']} F, {(end - start).days + 1} days, {sizes['timeout']} s limit",
                    f"{seconds(bare_seconds)} ({bare.status.value})",
                    f"{seconds(flow_seconds)} ({outcome.status}, Tier 1 {outcome.metrics.get('tier1_violations')})",
                    f"{overhead:.2f} s",
                    seconds(prefect_start),
                ]
            ],
        )
    )
    if outcome.status != "published":
        print(f"flow_overhead: the flow ended {outcome.status}: {outcome.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
