"""Crash matrix (issue 10): every operation that writes the schedule tables, and the backup and the
restore, killed with SIGKILL in the middle of its run.

Each kill runs on its own copy of one prepared database (and of its backup directory), so every
kill starts from the same state. After `rotaguard recover` the schedule tables must equal either
that state or the validated state the same operation leaves when it runs to the end (measured once,
on a copy of its own); nothing may point nowhere, no run may be left in flight, no swap half-moved,
no temporary file or restore marker left behind, and the audit log must still hold every event it
held before, in a chain that verifies (`rotaguard audit verify`, anchor included).

Half the kills land at a uniformly random moment of the run; the other half just after the
operation's first visible change, where the steps that must end together crowd: the child is
stopped and continued in steps of a fraction of a millisecond while the test looks, so that windows
of a few milliseconds between two commits are hit too.

The children run on the embedded default's orchestration, a local Prefect server started by
rotaguard.deployments.local_api (one for the module, stopped at its end). Nothing frees the
schedule-writes slot or lock by hand: `rotaguard recover`, run in a child of its own, gives back what
the killed child held (its lease and lock name a process that is provably gone), and the next kill's
child takes them.

10 kills per operation and database kind under `make test`, 100 under `make chaos`
(ROTAGUARD_CHAOS=1). ROTAGUARD_CRASH_SEED replays another seed; a failure names the seed, the
kill and how it was placed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from factories import dumps, program_document
from rotaguard.cli.main import main
from rotaguard.db import AuditLog, Database
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.db.tables import (
    AbsenceRow,
    AssignmentRow,
    AuditEventRow,
    BackupRecordRow,
    Base,
    CredentialRow,
    PersonRow,
    RotationRow,
    ScheduleRunRow,
    SwapRequestRow,
)
from rotaguard.domain.swaps import DateRange, Move, SwapKind, SwapStatus
from rotaguard.operations import SCHEDULE_TABLES
from rotaguard.swaps import SwapService
from swapdata import day, seed
from year_plans import YEAR

CHAOS = os.environ.get("ROTAGUARD_CHAOS") == "1"
KILLS = 100 if CHAOS else 10
SEED = int(os.environ.get("ROTAGUARD_CRASH_SEED", "20261122"))
START, END = dt.date(2026, 3, 12), dt.date(2026, 3, 18)
RANGE = f"{START}..{END}"
OPERATIONS = (
    "generate",
    "bulk_assign",
    "clear_range",
    "swap_execute",
    "swap_rollback",
    "backup",
    "restore",
    "plan_year",
)
ACTOR = "A-01"  # the fixture programs' admin: every operation here is allowed to them
# What the swap tables say of a swap is its status; when and by whom differs from run to run.
SWAP_COLUMNS = ("id", "status")
# Surrogate keys, timestamps and the run that wrote a row differ between two runs of one operation.
VOLATILE = {
    "assignments": {"id", "run_id", "created_at", "updated_at"},
    "rotation_plan": {"id", "run_id", "created_at", "updated_at"},
}
COMPARED_TABLES = (*SCHEDULE_TABLES, "swap_requests")

# The child imports everything first and says so; the clock starts only when it is told to go, so
# the kill lands in the operation itself rather than in Python's start-up. Then it runs exactly what
# `python -m rotaguard ARGS` runs.
LAUNCHER = """
import json, os, runpy, sys
import rotaguard.cli.main, rotaguard.cli.swap
import rotaguard.flows.generate_schedule, rotaguard.flows.bulk_assign, rotaguard.flows.clear_assignments
import rotaguard.flows.restore_backup, rotaguard.flows.execute_swap, rotaguard.flows.rollback_swap
import rotaguard.flows.plan_year
print("ready", flush=True)
order = json.loads(sys.stdin.readline())
os.environ.update(order["env"])
sys.argv = ["rotaguard", *order["argv"]]
runpy.run_module("rotaguard", run_name="__main__")
"""


# ---------------------------------------------------------------------------------------------
# Places: a database with its home and backup directory


@dataclass
class Place:
    url: str
    directory: Path

    @property
    def backups(self) -> Path:
        return self.directory / "backups"

    @property
    def env(self) -> dict[str, str]:
        return {
            "ROTAGUARD_DATABASE_URL": self.url,
            "ROTAGUARD_HOME": str(self.directory / "home"),
            "ROTAGUARD_BACKUP_DIR": str(self.backups),
            "ROTAGUARD_ACTOR": ACTOR,
        }

    def database(self) -> Database:
        return Database(self.url)


class Places:
    """The prepared place, and copies of it: a file copy on SQLite, a template clone on PostgreSQL."""

    def __init__(self, db_kind: str, request, tmp_path: Path) -> None:
        self.db_kind, self.request, self.tmp_path = db_kind, request, tmp_path
        self.clones: list[str] = []

    def prepared(self, url: str) -> Place:
        place = Place(url, self.tmp_path / "prepared")
        place.backups.mkdir(parents=True)
        return place

    def copy(self, source: Place, name: str) -> Place:
        directory = self.tmp_path / name
        shutil.copytree(source.backups, directory / "backups")
        if self.db_kind == "sqlite":
            target = directory / "rotaguard.db"
            for suffix in ("", "-wal"):  # a WAL not yet checkpointed holds committed data too
                if Path(make_url(source.url).database + suffix).is_file():
                    shutil.copy(make_url(source.url).database + suffix, f"{target}{suffix}")
            return Place(f"sqlite:///{target}", directory)
        server = self.request.getfixturevalue("postgres_server")
        clone = server.create(template=make_url(source.url).database)
        self.clones.append(clone)
        return Place(server.url(clone), directory)

    def discard(self, place: Place) -> None:
        shutil.rmtree(place.directory, ignore_errors=True)
        if self.db_kind == "postgresql":
            name = make_url(place.url).database
            self.request.getfixturevalue("postgres_server").drop(name)
            self.clones.remove(name)

    def close(self) -> None:
        if self.db_kind == "postgresql":
            for name in list(self.clones):
                self.request.getfixturevalue("postgres_server").drop(name)


@pytest.fixture
def places(db_kind, request, tmp_path):
    made = Places(db_kind, request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def rotaguard(monkeypatch, capsys):
    """`rotaguard ARGS` in this process against a place; returns (code, stdout, stderr)."""

    def run(place: Place, *args: str):
        for name, value in place.env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


# ---------------------------------------------------------------------------------------------
# The operations: how each one's place is prepared, and its command


def _small_program() -> dict:
    document = program_document()
    document["rotations"][1]["residents"]["min"] = 0  # so that a greedy week publishes
    return document


BULK_ROWS = [
    ("R2-01", "2026-03-13", "CALL", "NIGHT"),
    ("R2-01", "2026-03-16", "CALL", "NIGHT"),
    ("R1-01", "2026-03-13", "AM", "WARDS"),
    ("F-01", "2026-03-13", "AM", "WARDS"),
    ("R1-01", "2026-03-14", "PM", "WARDS"),
    ("F-01", "2026-03-14", "PM", "WARDS"),
]


def _import(rotaguard, place: Place, document: dict) -> None:
    path = place.directory / "program.json"
    path.write_text(dumps(document))
    code, _, err = rotaguard(place, "program", "import", str(path))
    assert code == 0, err


def _with_bulk_rows(document: dict) -> dict:
    document["assignments"] += [{"person_id": p, "date": d, "slot": s, "rotation_id": r} for p, d, s, r in BULK_ROWS]
    return document


def _approved_swap(place: Place, *, executed: bool) -> str:
    database = place.database()
    try:
        seed(database)
        swaps = SwapService(database)
        asked = swaps.request(
            actor_id="R2-01",
            kind=SwapKind.ABSORB,
            person_a="R2-01",
            person_b="R2-03",
            range_a=DateRange(start=day(0), end=day(0)),
        )
        assert (
            swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True).request.status is SwapStatus.APPROVED
        )
        if executed:
            assert swaps.execute(swap_id=asked.request.id, actor_id="R2-01").request.status is SwapStatus.EXECUTED
    finally:
        database.dispose()
    return asked.request.id


# The year plan: the profile's year with its last two blocks unplanned, re-planned from block 12 on
# (a small model the planner proves optimal at once; interleaved, it is the same plan on every run).
PLAN_FROM_BLOCK = 12


def _unfinished_year() -> dict:
    from rotaguard.domain import Schedule
    from rotaguard.interchange.document_v2 import document_from, dump_document
    from year_plans import block_span, year_program

    program = year_program()
    first, _ = block_span(program, PLAN_FROM_BLOCK, PLAN_FROM_BLOCK)
    unfinished = program.model_copy(update={"plan": tuple(e for e in program.plan if e.start < first)})
    return json.loads(dump_document(document_from(unfinished, Schedule(assignments=()), rule_overrides={})))


def prepare(operation: str, place: Place, rotaguard) -> list[str]:
    """Put the operation's starting state in ``place``; return the command that runs it."""
    if operation == "generate":
        _import(rotaguard, place, _small_program())
        return [
            "generate",
            "--start",
            str(START),
            "--end",
            str(END),
            "--yes",
            "--algorithm",
            "greedy",
            "--timeout",
            "5",
            "--json",
        ]
    if operation == "bulk_assign":
        _import(rotaguard, place, _small_program())
        rows = place.directory / "assignments.csv"
        rows.write_text("person,date,slot,rotation\n" + "".join(f"{p},{d},{s},{r}\n" for p, d, s, r in BULK_ROWS))
        return ["assign", "--file", str(rows), "--yes", "--json"]
    if operation == "clear_range":
        _import(rotaguard, place, _with_bulk_rows(_small_program()))
        return ["clear", "--start", str(START), "--end", str(END), "--yes", "--confirm", RANGE, "--json"]
    if operation in ("swap_execute", "swap_rollback"):
        swap_id = _approved_swap(place, executed=operation == "swap_rollback")
        return ["swap", operation.removeprefix("swap_"), swap_id, "--as", "R2-01", "--json"]
    if operation == "backup":
        _import(rotaguard, place, _small_program())
        return ["backup", "create", "--json"]
    if operation == "restore":
        _import(rotaguard, place, _small_program())
        code, out, err = rotaguard(place, "backup", "create", "--json")
        assert code == 0, err
        backup_id = json.loads(out)["id"]
        _import(rotaguard, place, _with_bulk_rows(_small_program()))  # the change the restore undoes
        return ["backup", "restore", backup_id, "--yes", "--json"]
    if operation == "plan_year":
        _import(rotaguard, place, _unfinished_year())
        return [
            "plan",
            "--year",
            str(YEAR),
            "--from-block",
            str(PLAN_FROM_BLOCK),
            "--deterministic",
            "--timeout",
            "30",
            "--yes",
            "--json",
        ]
    raise AssertionError(operation)


# ---------------------------------------------------------------------------------------------
# What the database holds


def schedule_digest(engine: Engine) -> str:
    """One digest of the schedule tables and the swaps' statuses, without what differs between two
    runs of one operation (surrogate ids, timestamps, run ids)."""
    tables = {table.name: table for table in Base.metadata.sorted_tables}
    content = {}
    with engine.connect() as connection:
        for name in COMPARED_TABLES:
            table = tables[name]
            keep = (
                SWAP_COLUMNS
                if name == "swap_requests"
                else [c.name for c in table.columns if c.name not in VOLATILE.get(name, set())]
            )
            rows = connection.execute(select(*[table.c[column] for column in keep])).all()
            content[name] = sorted(json.dumps([str(value) for value in row]) for row in rows)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def audit_hashes(database: Database) -> set[str]:
    with database.read() as session:
        return set(session.scalars(select(AuditEventRow.hash)))


def orphans(database: Database, backups: Path) -> list[str]:
    """Rows that point nowhere, backup records without their files, files without their records."""
    found = []
    with database.read() as session:
        people = set(session.scalars(select(PersonRow.id)))
        rotations = set(session.scalars(select(RotationRow.id)))
        runs = set(session.scalars(select(ScheduleRunRow.id)))
        for person, when, slot, rotation, run in session.execute(
            select(
                AssignmentRow.person_id,
                AssignmentRow.date,
                AssignmentRow.slot,
                AssignmentRow.rotation_id,
                AssignmentRow.run_id,
            )
        ):
            if person not in people or rotation not in rotations or (run is not None and run not in runs):
                found.append(f"assignment {person} {when} {slot} {rotation} run {run}")
        for table in (CredentialRow, AbsenceRow):
            found += [
                f"{table.__tablename__} of unknown {person}"
                for person in session.scalars(select(table.person_id))
                if person not in people
            ]
        for swap_id, a, b in session.execute(
            select(SwapRequestRow.id, SwapRequestRow.person_a_id, SwapRequestRow.person_b_id)
        ):
            if a not in people or (b is not None and b not in people):
                found.append(f"swap {swap_id} of unknown people")
        records = {row.id: row.status for row in session.scalars(select(BackupRecordRow))}
    for backup_id, status in records.items():
        if status in ("created", "verified") and not (
            (backups / f"{backup_id}.dump").is_file() and (backups / f"{backup_id}.dump.manifest.json").is_file()
        ):
            found.append(f"backup record {backup_id} ({status}) without its file or manifest")
    for manifest in backups.glob("rotaguard_*.manifest.json"):
        backup_id = manifest.name.removesuffix(".dump.manifest.json")
        if backup_id not in records or records[backup_id] == "deleted":
            found.append(f"backup {backup_id} on disk without its record")
        elif json.loads(manifest.read_text())["status"] == "unverified":
            found.append(f"backup {backup_id} left unverified")
    found += [f"leftover {path.name}" for path in backups.iterdir() if _leftover(path.name)]
    return found


def _leftover(name: str) -> bool:
    """A temporary file (every writer's, the audit anchor's included) or a restore marker still
    there after recovery."""
    return name == "restore-in-progress.json" or name.endswith(".partial")


def half_moved_swaps(database: Database) -> list[str]:
    """Swaps whose status does not match where their duties are."""
    found = []
    with database.read() as session:
        held = {(a.person_id, a.date, a.slot, a.rotation_id) for a in session.scalars(select(AssignmentRow))}
        for request in session.scalars(select(SwapRequestRow)):
            moves = [Move.model_validate(m) for m in (request.details or {}).get("moves", [])]
            side = {"executed": "after", "approved": "before", "rolled_back": "before"}.get(request.status)
            for move in moves if side else []:
                duty = getattr(move, side)
                if (duty.person_id, duty.date, duty.slot, duty.rotation_id) not in held:
                    found.append(
                        f"swap {request.id} is {request.status} but {duty.person_id} does not hold {duty.date} {duty.slot}"
                    )
    return found


def runs_in_flight(database: Database) -> list[str]:
    with database.read() as session:
        return [f"{run.id} {run.status}" for run in ScheduleRunRepository(session).in_flight()]


def assert_whole(place: Place, rotaguard, *, allowed: dict[str, str], audit_before: set[str], where: str) -> str:
    """The invariants every state after recovery must hold; returns which allowed state it is."""
    database = place.database()
    try:
        digest = schedule_digest(database.engine)
        state = next((name for name, value in allowed.items() if value == digest), None)
        assert state is not None, f"{where}: the schedule tables are neither before nor after the operation"
        assert runs_in_flight(database) == [], f"{where}: runs left in flight"
        assert orphans(database, place.backups) == [], f"{where}: orphans"
        assert half_moved_swaps(database) == [], f"{where}: half-moved swaps"
        with database.read() as session:
            check = AuditLog(session).verify()
        assert check.ok, f"{where}: audit chain: {check.reason}"
        lost = audit_before - audit_hashes(database)
        assert not lost, f"{where}: {len(lost)} audit events written before the operation are gone"
    finally:
        database.dispose()
    code, _, err = rotaguard(place, "audit", "verify", "--json")
    assert code == 0, f"{where}: rotaguard audit verify: {err}"
    return state


# ---------------------------------------------------------------------------------------------
# Processes


@pytest.fixture(scope="module")
def local_prefect(tmp_path_factory):
    """The local Prefect server every child of this module uses (the embedded default's)."""
    from rotaguard.deployments.local_api import ensure_local_api, stop_local_api

    home = tmp_path_factory.mktemp("crash-prefect")
    api = ensure_local_api(home)
    yield api
    stop_local_api(home)


class Launcher:
    """Children that have imported everything and wait to be told what to run: two wait at any
    time, so that their start-up overlaps the runs and recoveries before them."""

    DEPTH = 2

    def __init__(self, logs: Path, api) -> None:
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
        self.env = inherited | api.environment() | {"PREFECT_HOME": api.prefect_home}
        self.logs = logs
        self.logs.mkdir(exist_ok=True)
        self.waiting: list[subprocess.Popen] = []
        self.count = 0

    def _spawn(self) -> subprocess.Popen:
        self.count += 1
        log = (self.logs / f"child-{self.count}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCHER],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )

    def prepare_next(self) -> None:
        while len(self.waiting) < self.DEPTH:
            self.waiting.append(self._spawn())

    def start(self, place: Place, argv: list[str]) -> subprocess.Popen:
        self.prepare_next()
        process = self.waiting.pop(0)
        assert process.stdout.readline().strip() == "ready", f"the child did not start: see {self.logs}"
        process.stdin.write(json.dumps({"env": place.env, "argv": argv}) + "\n")
        process.stdin.flush()
        return process

    def run(self, place: Place, argv: list[str]) -> tuple[int, str]:
        """``rotaguard ARGV`` in a waiting child, to its end: (exit code, stdout)."""
        process = self.start(place, argv)
        out, _ = process.communicate(timeout=600)
        self.prepare_next()
        return process.returncode, out

    def close(self) -> None:
        for process in self.waiting:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------
# Watching the child: when did it first change something, and stopping it right after


class ChangeWatch:
    """Whether the operation has changed anything visible yet: the schedule tables left their state
    before (for a backup: a file appeared in the backup directory). Reads never get in its way:
    each statement is its own transaction, and one that would wait for the operation's locks gives
    up at once (the change is then not visible yet)."""

    def __init__(self, operation: str, place: Place, before: str) -> None:
        self.operation, self.place, self.before = operation, place, before
        self.files = set(place.backups.iterdir())
        if place.url.startswith("sqlite"):
            self.engine = create_engine(place.url, connect_args={"timeout": 0.05}, isolation_level="AUTOCOMMIT")
        else:
            options = "-c lock_timeout=50 -c statement_timeout=200"
            self.engine = create_engine(place.url, connect_args={"options": options}, isolation_level="AUTOCOMMIT")
        # A cheap value that moves when another connection commits (SQLite's data_version, per
        # connection) or a transaction begins writing (PostgreSQL's next transaction id): only then
        # is the digest worth computing again.
        self.counter_connection = self.engine.connect()
        self.counter_sql = (
            "PRAGMA data_version"
            if self.engine.dialect.name == "sqlite"
            else "SELECT pg_snapshot_xmax(pg_current_snapshot())"
        )
        self.last = None

    def changed(self) -> bool:
        if self.operation == "backup":
            return set(self.place.backups.iterdir()) != self.files
        try:
            counter = self.counter_connection.exec_driver_sql(self.counter_sql).scalar()
            if counter == self.last:
                return False
            self.last = counter
            return schedule_digest(self.engine) != self.before
        except OperationalError:
            self.last = None
            return False

    def close(self) -> None:
        self.counter_connection.close()
        self.engine.dispose()


def signal_group(process: subprocess.Popen, number: int) -> bool:
    """Signal the child's process group (it and its pg_dump or pg_restore); False when it is gone."""
    try:
        os.killpg(process.pid, number)
    except ProcessLookupError:
        return False
    return True


def first_change_at(watch: ChangeWatch, process: subprocess.Popen) -> float:
    """Seconds from now until the operation's first visible change (or its end)."""
    began = time.monotonic()
    while process.poll() is None and not watch.changed():
        time.sleep(0.01)
    return time.monotonic() - began


def step_to_first_change(
    watch: ChangeWatch, process: subprocess.Popen, *, free_for: float, extra_steps: int, step: float
) -> tuple[str, bool]:
    """Run the child freely for ``free_for`` seconds, then in steps of ``step`` seconds, looking while
    it is stopped; leave it stopped ``extra_steps`` steps after the first change it made. Returns
    what was seen, and whether the change came before the stepping began (then the next free run
    must be shorter)."""
    time.sleep(free_for)
    steps_after, checks, too_late = None, 0, False
    while process.poll() is None:
        if not signal_group(process, signal.SIGSTOP):
            break
        checks += 1
        if steps_after is None and watch.changed():
            steps_after, too_late = 0, checks == 1
        if steps_after is not None:
            if steps_after >= extra_steps:
                return f"stopped {steps_after} steps of {step * 1000:.1f} ms after the first change", too_late
            steps_after += 1
        signal_group(process, signal.SIGCONT)
        time.sleep(step)
    return "ended before a change was seen", False


def verified_backup_now(place: Place, rotaguard) -> None:
    """A verified backup after the last audited change: the operation reuses it instead of taking
    its own, which keeps each run short (the backup row kills `backup create` itself)."""
    time.sleep(1.1)  # backups are stamped to the second: strictly after the last event
    code, _, err = rotaguard(place, "backup", "create", "--json")
    assert code == 0, err


# ---------------------------------------------------------------------------------------------
# The matrix


@pytest.mark.parametrize("operation", OPERATIONS)
def test_sigkill_at_random_points_then_recover(
    operation, db_kind, local_prefect, database_url, places, rotaguard, tmp_path
):
    prepared = places.prepared(database_url)
    argv = prepare(operation, prepared, rotaguard)
    if operation != "backup":
        verified_backup_now(prepared, rotaguard)
    database = prepared.database()
    before, audit_before = schedule_digest(database.engine), audit_hashes(database)
    database.dispose()
    launcher = Launcher(tmp_path / "logs", local_prefect)
    try:
        # The after-state: the operation run to its end once, on a copy of its own.
        reference = places.copy(prepared, "reference")
        process = launcher.start(reference, argv)
        began = time.monotonic()
        watch = ChangeWatch(operation, reference, before)
        try:
            first = first_change_at(watch, process)
        finally:
            watch.close()
        out, _ = process.communicate(timeout=600)
        window = time.monotonic() - began
        launcher.prepare_next()
        assert process.returncode == 0, f"{operation} did not succeed when left alone: {out} (logs in {launcher.logs})"
        database = reference.database()
        after = schedule_digest(database.engine)
        database.dispose()
        if operation != "backup":
            assert after != before, f"{operation} changed nothing: the kills would prove nothing"
        assert_whole(
            reference, rotaguard, allowed={"after": after}, audit_before=audit_before, where=f"{operation} left alone"
        )
        places.discard(reference)

        rng = random.Random(f"{SEED}-{operation}-{db_kind}")
        seen = []
        for kill in range(KILLS):
            place = places.copy(prepared, f"kill-{kill}")
            process = launcher.start(place, argv)
            started = time.monotonic()
            # Even kills: any moment of the run. Odd ones: just after its first visible write, where
            # the steps that must finish together (write, audit, marker, records) crowd.
            if kill % 2 == 0:
                moment, how = rng.uniform(0, window), "into the run"
                time.sleep(moment)
            else:
                extra = rng.choice([0, 0, 1, 2, 5, 10, 50])
                step = rng.choice([0.0002, 0.001])
                free_for = max(0.0, first - 0.5)
                watch = ChangeWatch(operation, place, before)
                try:
                    how, too_late = step_to_first_change(
                        watch, process, free_for=free_for, extra_steps=extra, step=step
                    )
                finally:
                    watch.close()
                moment = time.monotonic() - started
                if too_late:
                    first = free_for / 2  # the reference run, the first of its kind, is the slowest
                elif "after the first change" in how:
                    first = min(first, moment)
            where = f"{operation} on {db_kind}, kill {kill + 1}/{KILLS} at {moment:.2f} s {how} (window {window:.2f} s, ROTAGUARD_CRASH_SEED={SEED})"
            killed = process.poll() is None
            if killed:
                process.send_signal(signal.SIGKILL)  # the process only: its children must die with it
                signal_group(process, signal.SIGCONT)
            elif kill % 2 == 0:
                # The run was over before the moment came: later moments are drawn within its length
                # (the reference run, the first of its kind, is the slowest).
                window = min(window, time.monotonic() - started)
            process.communicate(timeout=600)
            # Whatever the killed child held (the Prefect slot, the lock row) is recover's to give back.
            code, out = launcher.run(place, ["recover", "--json"])
            assert code == 0, f"{where}: rotaguard recover failed: {out} (logs in {launcher.logs})"
            state = assert_whole(
                place, rotaguard, allowed={"before": before, "after": after}, audit_before=audit_before, where=where
            )
            seen.append(f"{moment:.2f}{'k' if killed else ''}:{state}")
            places.discard(place)
    finally:
        launcher.close()
    print(f"{operation}/{db_kind}: window {window:.2f} s; moment[k=killed]:state {' '.join(seen)}")
