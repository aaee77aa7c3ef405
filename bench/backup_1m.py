"""Benchmark: backups of a PostgreSQL database holding 1,000,000 assignment rows.

    .venv/bin/python bench/backup_1m.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--smoke]

Measures, in one run: RotaGuard's create + verify against a raw pg_dump + pg_restore of the
same database (the ratio is the figure: goal at most 1.5x), and the restore of one 28-day
range of assignments (goal under 5 s). The throwaway databases are dropped afterwards. Prints
the result table. ``--smoke``: 56 days of rows (20,160) instead of 2,778 (1,000,080), the same
steps (tests/test_bench_scripts.py runs it against the test session's PostgreSQL server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import markdown_table, seconds
from rotaguard.backups import BackupStore
from rotaguard.db import Database
from rotaguard.db.migrate import upgrade

PEOPLE = 120
DAYS = 2778  # 120 people x 2,778 days x 3 slots = 1,000,080 rows
SMOKE_DAYS = 56  # 20,160 rows
RANGE_DAYS = 28
RANGE_OFFSET_DAYS = 1000  # where the restored range starts (at most DAYS - RANGE_DAYS)
FIRST_DAY = dt.date(2019, 1, 3)


def seed(database: Database, days: int) -> int:
    with database.write() as session:
        session.execute(
            text(
                'INSERT INTO rotations (id, name, kind, slots, days, resident_min, resident_max, resident_pgy, faculty_min, faculty_max, credentials, supervised, in_house, moonlighting, created_at, updated_at) VALUES (\'WARDS\', \'Wards\', \'session\', \'["AM","PM"]\', \'["mon","tue","wed","thu","fri","sat","sun"]\', 0, 200, \'[1,2,3]\', 0, 200, \'[]\', false, true, false, now(), now())'
            )
        )
        session.execute(
            text(
                "INSERT INTO people (id, name, role, pgy, active, created_at, updated_at) SELECT 'R-' || g, 'Resident ' || g, 'resident', 1 + g % 3, true, now(), now() FROM generate_series(1, :n) g"
            ),
            {"n": PEOPLE},
        )
        session.execute(
            text(
                "INSERT INTO assignments (person_id, date, slot, rotation_id, source, locked, created_at, updated_at) "
                "SELECT 'R-' || p, CAST(:first AS date) + d, s, 'WARDS', 'solver', false, now(), now() "
                "FROM generate_series(1, :people) p, generate_series(0, :days - 1) d, unnest(ARRAY['AM','PM','CALL']) s"
            ),
            {"first": FIRST_DAY, "people": PEOPLE, "days": days},
        )
        return session.execute(text("SELECT count(*) FROM assignments")).scalar()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("ROTAGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_DAYS} days of rows: the same steps")
    args = parser.parse_args()
    admin_url = args.admin_url.replace("postgresql+psycopg://", "postgresql://")
    days = SMOKE_DAYS if args.smoke else DAYS
    name = f"rotaguard_bench_{uuid.uuid4().hex[:8]}"
    raw_restore_db = f"{name}_raw"
    print(f"throwaway databases: {name}, {raw_restore_db}")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    try:
        upgrade(database)
        began = time.perf_counter()
        rows = seed(database, days)
        print(f"seeded {rows:,} assignment rows in {time.perf_counter() - began:.1f}s")
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            began = time.perf_counter()
            raw_dump = directory / "raw.dump"
            subprocess.run(["pg_dump", "-Fc", "-f", str(raw_dump), f"--dbname={url}"], check=True)
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{raw_restore_db}"')
            subprocess.run(
                [
                    "pg_restore",
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    f"--dbname={url}_raw",
                    str(raw_dump),
                ],
                check=True,
            )
            raw = time.perf_counter() - began
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{raw_restore_db}" WITH (FORCE)')
            store = BackupStore(database=database, directory=directory / "backups")
            began = time.perf_counter()
            manifest = store.create()
            ours = time.perf_counter() - began
            print(
                f"raw pg_dump + pg_restore: {raw:.2f}s; rotaguard create + verify: {ours:.2f}s ({manifest.status.value}, {manifest.size_bytes:,} bytes); ratio {ours / raw:.2f}x"
            )
            first = FIRST_DAY + dt.timedelta(days=min(RANGE_OFFSET_DAYS, days - RANGE_DAYS))
            last = first + dt.timedelta(days=RANGE_DAYS - 1)
            began = time.perf_counter()
            restored = store.engine.restore_assignments(manifest.path_in(store.directory), first, last)
            restore_seconds = time.perf_counter() - began
            print(f"restore of one {RANGE_DAYS}-day range ({restored:,} rows): {restore_seconds:.2f}s")
    finally:
        database.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for created in (raw_restore_db, name):
                admin.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
    print()
    print(
        markdown_table(
            [
                "assignment rows",
                "raw pg_dump + pg_restore",
                "create + verify",
                "backup status",
                "ratio",
                f"{RANGE_DAYS}-day range restore",
            ],
            [
                [
                    f"{rows:,}",
                    seconds(raw),
                    seconds(ours),
                    manifest.status.value,
                    f"{ours / raw:.2f}×",
                    f"{seconds(restore_seconds)} ({restored:,} rows)",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
