"""Benchmark: the whole generation flow (auto-approved) against the bare solve of the same block.

    .venv/bin/python bench/flow_overhead.py [--database-url URL]

Default: a throwaway SQLite file. For PostgreSQL pass a URL of an empty database you may drop
tables in. Prefect runs on its local ephemeral API; its one-time start is reported apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rotaguard-bench-"))
    os.environ["ROTAGUARD_HOME"] = str(home)
    os.environ["ROTAGUARD_DATABASE_URL"] = args.database_url or f"sqlite:///{home / 'rotaguard.db'}"
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    from rotaguard.cli.main import _ensure_concurrency_limit
    from rotaguard.db import Database
    from rotaguard.db.migrate import upgrade
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
    from rotaguard.interchange.importer import import_document
    from rotaguard.interchange.synth import synthesize
    from rotaguard.solver import ScheduleProblem, solve

    start = dt.date(2026, 7, 2)
    end = start + dt.timedelta(days=27)
    document = synthesize(seed=1, start=start)
    database = Database(os.environ["ROTAGUARD_DATABASE_URL"])
    upgrade(database)
    import_document(database, document, actor="bench", source="synth")

    began = time.perf_counter()
    bare = solve(ScheduleProblem(program=document.to_program(), start=start, end=end))
    bare_seconds = time.perf_counter() - began

    began = time.perf_counter()
    _ensure_concurrency_limit()
    prefect_start = time.perf_counter() - began

    began = time.perf_counter()
    # C-01: the synthetic program's coordinator, who may approve a generation.
    outcome = generate_schedule(GenerateParams(start=start, end=end, auto_approve_as="C-01", timeout_seconds=120))
    flow_seconds = time.perf_counter() - began
    print(
        f"{database.kind}: bare solve {bare_seconds:.2f}s ({bare.status.value}); flow {flow_seconds:.2f}s ({outcome.status}); "
        f"overhead {flow_seconds - bare_seconds:.2f}s; Prefect API first start {prefect_start:.2f}s"
    )
    database.dispose()


if __name__ == "__main__":
    main()
