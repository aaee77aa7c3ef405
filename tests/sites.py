"""A seeded swap-program site for the tests that run every command and flow against one database:
the CLI against it, its schedule rows, swaps in each state, and a backup store that can be taken away."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from dbstate import table_rows
from rotaguard.db import AssignmentRepository, Database
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.domain.swaps import DateRange, SwapKind
from rotaguard.operations import SCHEDULE_TABLES
from rotaguard.swaps import SwapService
from swapdata import day, seed


class Site:
    """A seeded database, the CLI against it, and a backup store that can be taken away."""

    def __init__(self, database_url: str, tmp_path: Path, cli, monkeypatch) -> None:
        self.url, self.tmp_path, self.cli, self.monkeypatch = database_url, tmp_path, cli, monkeypatch
        self.database = Database(database_url)
        self.backups = tmp_path / "backups"
        blocker = tmp_path / "a-regular-file"
        blocker.write_text("the backup directory cannot be made under a file\n")
        self.unavailable = blocker / "backups"
        self.use_backups(self.backups)
        seed(self.database)

    def use_backups(self, directory: Path) -> None:
        self.monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(directory))

    def use_s3(self, endpoint: str, bucket: str) -> dict:
        """Off-site copies to ``bucket`` on the moto server at ``endpoint`` (any credentials pass)."""
        s3 = {
            "ROTAGUARD_S3_BUCKET": bucket,
            "ROTAGUARD_S3_ENDPOINT_URL": endpoint,
            "ROTAGUARD_S3_REGION": "us-east-1",
            "ROTAGUARD_S3_ACCESS_KEY_ID": "synthetic-test-key",
            "ROTAGUARD_S3_SECRET_ACCESS_KEY": "synthetic-test-secret",
        }
        for name, value in s3.items():
            self.monkeypatch.setenv(name, value)
        return s3

    def schedule_rows(self) -> dict:
        return {name: rows for name, rows in table_rows(self.database).items() if name in SCHEDULE_TABLES}

    def approved_swap(self, giver: str = "R2-01", offset: int = 0, taker: str = "R2-03") -> str:
        """``giver``'s duties of day ``offset`` go to ``taker``, who accepted: approved, not executed."""
        swaps = SwapService(self.database)
        when = DateRange(start=day(offset), end=day(offset))
        asked = swaps.request(actor_id=giver, kind=SwapKind.ABSORB, person_a=giver, person_b=taker, range_a=when)
        answered = swaps.answer(swap_id=asked.request.id, actor_id=taker, accept=True)
        assert answered.request.status.value == "approved", answered
        return asked.request.id

    def executed_swap(self, giver: str, offset: int, taker: str) -> str:
        swap_id = self.approved_swap(giver, offset, taker)
        SwapService(self.database).execute(swap_id=swap_id, actor_id=giver)
        return swap_id

    def backup(self) -> str:
        made = self.cli("backup", "create", "--json")
        assert made.code == 0, made.err
        return json.loads(made.out)["id"]

    def file(self, name: str, content: str) -> Path:
        path = self.tmp_path / name
        path.write_text(content)
        return path

    def assignment_rows(self) -> list[dict]:
        return [{"person": "R1-01", "date": str(day(5)), "slot": "AM", "rotation": "WARDS", "locked": False}]

    def interrupted_run(self, backup_id: str) -> str:
        """A run whose marker says it died mid-write: recovery must restore its range from a backup."""
        run_id = str(uuid.uuid4())
        with self.database.write() as session:
            runs = ScheduleRunRepository(session)
            runs.create(run_id=run_id, start=day(0), end=day(6), algorithm="greedy")
            pre_digest = AssignmentRepository(session).digest(start=day(0), end=day(6))
            runs.update(run_id=run_id, status="writing", backup_id=backup_id, metrics={"pre_digest": pre_digest})
        return run_id

    def with_year(self) -> None:
        """The stored program given the academic year ``year_plans.YEAR`` (13 blocks from July 1; none
        begun): what `rotaguard plan` and its flow look for before anything else."""
        from datetime import date

        from rotaguard.db import ProgramRepository
        from rotaguard.interchange.profiles import academic_year
        from year_plans import YEAR

        with self.database.write() as session:
            repository = ProgramRepository(session)
            program = repository.load()
            assert program is not None
            repository.save(
                program=program.model_copy(update={"year": academic_year(date(YEAR, 7, 1))}), rule_overrides={}
            )

    def in_flight(self) -> list[str]:
        with self.database.read() as session:
            return [r.id for r in ScheduleRunRepository(session).in_flight()]
