"""Benchmark: backups of a PostgreSQL database holding 1,000,000 assignment rows.

    .venv/bin/python bench/backup_1m.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Measures, in one run: RotaGuard's create + verify against a raw pg_dump + pg_restore of the
same database (the ratio is the figure: goal at most 1.5x), and the restore of one 28-day
range of assignments (goal under 5 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text

from rotaguard.backups import BackupStore
from rotaguard.db import Database
from rotaguard.db.migrate import upgrade

PEOPLE = 120
DAYS = 2778  # 120 people x 2,778 days x 3 slots = 1,000,080 rows
FIRST_DAY = dt.date(2019, 1, 3)


def seed(database: Database) -> int:
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
            {"first": FIRST_DAY, "people": PEOPLE, "days": DAYS},
        )
        return session.execute(text("SELECT count(*) FROM assignments")).scalar()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("ROTAGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    name = f"rotaguard_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    try:
        upgrade(database)
        began = time.perf_counter()
        rows = seed(database)
        print(f"seeded {rows:,} assignment rows in {time.perf_counter() - began:.1f}s")
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            began = time.perf_counter()
            raw_dump = directory / "raw.dump"
            subprocess.run(["pg_dump", "-Fc", "-f", str(raw_dump), f"--dbname={url}"], check=True)
            raw_restore_db = f"{name}_raw"
            with psycopg.connect(args.admin_url, autocommit=True) as admin:
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
            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{raw_restore_db}" WITH (FORCE)')
            store = BackupStore(database=database, directory=directory / "backups")
            began = time.perf_counter()
            manifest = store.create()
            ours = time.perf_counter() - began
            print(
                f"raw pg_dump + pg_restore: {raw:.2f}s; rotaguard create + verify: {ours:.2f}s ({manifest.status.value}, {manifest.size_bytes:,} bytes); ratio {ours / raw:.2f}x"
            )
            first = FIRST_DAY + dt.timedelta(days=1000)
            last = first + dt.timedelta(days=27)
            began = time.perf_counter()
            restored = store.engine.restore_assignments(manifest.path_in(store.directory), first, last)
            print(f"restore of one 28-day range ({restored:,} rows): {time.perf_counter() - began:.2f}s")
    finally:
        database.dispose()
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
