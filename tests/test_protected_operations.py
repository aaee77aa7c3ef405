"""Proof that nothing bypasses the gate (issue 9, item 4).

Every `rotaguard` command and every Prefect flow is enumerated from the code itself (the Typer
app's command tree; the `@flow` objects of `rotaguard.flows`) and matched against the registry in
`rotaguard.operations`. Then, on SQLite and PostgreSQL:

* each operation that can write the schedule tables is run, by its command and by its flow, against
  a database whose backup store is unavailable (the backup directory lies under a regular file):
  every one of them is refused and not one schedule-table row changes;
* each read-only command and flow is run against a working store: the whole database, every table
  including the audit log and the backup records, is unchanged;
* each command or flow that writes records (swap requests, backups) changes no schedule-table row.

A command or flow added without a registry entry, or a writer added without a run here, fails the
first tests: the scenarios below must name exactly the registry's operations.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from dbstate import digest
from entrypoints import command_paths, flows
from rotaguard.db import AssignmentRepository
from rotaguard.domain import Slot
from rotaguard.operations import OPERATIONS, RECORD_COMMANDS, RECORD_FLOWS, Risk, for_command, for_flow
from sites import Site
from swapdata import day
from year_plans import YEAR

pytestmark = pytest.mark.usefixtures("prefect_api")


# ---------------------------------------------------------------------------------- what exists


REGISTERED_COMMANDS = {c for o in OPERATIONS for c in o.commands}
REGISTERED_FLOWS = {f for o in OPERATIONS for f in o.flows}
WRITING_COMMANDS = {c for o in OPERATIONS if o.modifies_schedule for c in o.commands}
WRITING_FLOWS = {f for o in OPERATIONS if o.modifies_schedule for f in o.flows}
SAFE_COMMANDS = {c for o in OPERATIONS if o.risk is Risk.SAFE for c in o.commands}
SAFE_FLOWS = {f for o in OPERATIONS if o.risk is Risk.SAFE for f in o.flows}


def test_every_command_and_flow_is_in_the_registry_exactly_once():
    commands, found = command_paths(), set(flows())
    assert len(commands) >= 30 and len(found) >= 9
    assert commands - REGISTERED_COMMANDS - set(RECORD_COMMANDS) == set(), "commands missing from rotaguard.operations"
    assert (REGISTERED_COMMANDS | set(RECORD_COMMANDS)) - commands == set(), (
        "registry entries for commands that do not exist"
    )
    assert found - REGISTERED_FLOWS - set(RECORD_FLOWS) == set(), "flows missing from rotaguard.operations"
    assert (REGISTERED_FLOWS | set(RECORD_FLOWS)) - found == set(), "registry entries for flows that do not exist"
    listed = [c for o in OPERATIONS for c in o.commands] + list(RECORD_COMMANDS)
    assert len(listed) == len(set(listed)), "a command is listed twice"
    assert not REGISTERED_FLOWS & set(RECORD_FLOWS)


def test_the_registry_states_each_risk_and_what_it_requires():
    assert {o.id: o.risk for o in OPERATIONS if o.modifies_schedule} == {
        "generate": Risk.HIGH,
        "bulk_assign": Risk.HIGH,
        "plan_year": Risk.HIGH,
        "clear_range": Risk.CRITICAL,
        "execute_swap": Risk.MEDIUM,
        "rollback_swap": Risk.MEDIUM,
        "restore": Risk.HIGH,
        "import_program": Risk.MEDIUM,
        "recover": Risk.MEDIUM,
    }
    for o in OPERATIONS:
        needs = o.requirements
        assert (needs.verified_backup_max_age == dt.timedelta(hours=2)) == o.modifies_schedule, o.id
        assert needs.approval == (o.risk in (Risk.HIGH, Risk.CRITICAL)), o.id
        assert needs.typed_confirmation == (o.risk is Risk.CRITICAL), o.id
    assert {o.id for o in OPERATIONS if o.validates_after_write} == {"generate", "bulk_assign", "plan_year"}
    assert {"validate", "candidates", "health", "export"} <= {o.id for o in OPERATIONS if o.risk is Risk.SAFE}
    assert for_command("clear").id == "clear_range" and for_flow("request-swap").id == "execute_swap"


def test_every_deployment_that_writes_the_schedule_says_so():
    from rotaguard.deployments.definitions import SPECS

    for spec in SPECS:
        operation = for_flow(spec.name)
        writes = operation is not None and operation.modifies_schedule
        assert ("writes-schedule" in spec.tags) == writes, spec.name
        assert ("read-only" in spec.tags) == (operation is not None and operation.risk is Risk.SAFE), spec.name


# ------------------------------------------------------------------------------ the site under test


@pytest.fixture
def site(cli, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ROTAGUARD_SMTP_HOST", "")
    made = Site(database_url, tmp_path, cli, monkeypatch)
    yield made
    made.database.dispose()


def _refused(result) -> str:
    """A command refused with one line and a non-zero exit (never an internal error)."""
    assert result.code not in (0, 70), (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rotaguard: error:") and "Traceback" not in result.err, result.err
    return lines[0]


# Each writer: the setup it needs with a working store, then the run with the store unavailable.
# Returns what the run ended with: a CLI result, or a flow's outcome.


def _cli_generate(site: Site, _):
    return site.cli(
        "generate", "--start", str(day(0)), "--end", str(day(6)), "--yes", "--algorithm", "greedy", "--json"
    )


def _cli_assign(site: Site, _):
    return site.cli(
        "assign", "--file", str(site.file("rows.json", json.dumps(site.assignment_rows()))), "--yes", "--json"
    )


def _cli_clear(site: Site, _):
    return site.cli(
        "clear", "--start", str(day(0)), "--end", str(day(4)), "--yes", "--confirm", f"{day(0)}..{day(4)}", "--json"
    )


def _cli_swap_execute(site: Site, swap_id: str):
    return site.cli("swap", "execute", swap_id, "--as", "C-01", "--json")


def _cli_swap_rollback(site: Site, swap_id: str):
    return site.cli("swap", "rollback", swap_id, "--as", "A-01", "--json")


def _cli_restore(site: Site, backup_id: str):
    return site.cli("backup", "restore", backup_id, "--yes", "--json")


def _cli_import(site: Site, _):
    exported = json.loads(site.cli("program", "export").out)
    exported["people"][0]["name"] = "Renamed By The Import"
    return site.cli("program", "import", str(site.file("program.json", json.dumps(exported))))


def _cli_plan(site: Site, _):
    return site.cli("plan", "--year", str(YEAR), "--timeout", "5", "--yes", "--json")


def _cli_recover(site: Site, run_id: str):
    return site.cli("recover", "--json")


def _flow_generate(site: Site, _):
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule

    return generate_schedule(
        GenerateParams(start=day(0), end=day(6), algorithm="greedy", auto_approve_as="A-01", lock_wait_seconds=10)
    )


def _flow_bulk_assign(site: Site, _):
    from rotaguard.flows.bulk_assign import BulkAssignParams, bulk_assign

    return bulk_assign(
        BulkAssignParams(assignments=site.assignment_rows(), auto_approve_as="A-01", lock_wait_seconds=10)
    )


def _flow_clear(site: Site, _):
    from rotaguard.flows.clear_assignments import ClearParams, clear_assignments

    return clear_assignments(
        ClearParams(
            start=day(0), end=day(4), confirm_range_as="A-01", confirmation=f"{day(0)}..{day(4)}", lock_wait_seconds=10
        )
    )


def _flow_execute(site: Site, swap_id: str):
    from rotaguard.flows.execute_swap import execute_swap
    from rotaguard.flows.swap_actions import SwapActionParams

    return execute_swap(SwapActionParams(swap_id=swap_id, actor_id="C-01", lock_wait_seconds=10))


def _flow_request_swap(site: Site, _):
    """The request flow pauses for person B; B's answer (as the form sends it) leads to its execute step."""
    import threading

    from prefect.flow_runs import resume_flow_run

    from rotaguard.flows.request_swap import RequestSwapParams, request_swap

    box: dict = {}
    params = RequestSwapParams(actor_id="R2-03", person_a="R2-03", person_b="R2-01", a_start=day(3), a_end=day(3))
    worker = threading.Thread(target=lambda: box.update(outcome=request_swap(params)), daemon=True)
    worker.start()
    resume_flow_run(_paused_request_run(site), run_input={"accept": True, "answered_by": "R2-01"})
    worker.join(timeout=180)
    assert not worker.is_alive(), "request-swap did not finish after B's answer"
    return box["outcome"]


def _paused_request_run(site: Site, seconds: float = 90) -> uuid.UUID:
    from prefect import get_client

    from rotaguard.db.swaps import SwapRepository

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with site.database.read() as session:
            requests = [r for r in SwapRepository(session).list() if r.flow_run_id]
        if requests:
            with get_client(sync_client=True) as client:
                flow_run_id = uuid.UUID(requests[0].flow_run_id)
                if client.read_flow_run(flow_run_id).state.is_paused():
                    return flow_run_id
        time.sleep(0.3)
    raise AssertionError("request-swap never paused for person B")


def _flow_plan(site: Site, _):
    from rotaguard.flows.plan_year import PlanYearParams, plan_year

    return plan_year(PlanYearParams(year=YEAR, timeout_seconds=5, auto_approve_as="A-01", lock_wait_seconds=10))


def _flow_rollback(site: Site, swap_id: str):
    from rotaguard.flows.rollback_swap import rollback_swap
    from rotaguard.flows.swap_actions import SwapActionParams

    return rollback_swap(SwapActionParams(swap_id=swap_id, actor_id="A-01", lock_wait_seconds=10))


def _flow_restore(site: Site, backup_id: str):
    from rotaguard.flows.restore_backup import RestoreParams, restore_backup

    return restore_backup(RestoreParams(backup_id=backup_id, auto_approve_as="A-01", lock_wait_seconds=10))


WRITERS = {
    # registry name (command or flow) -> (setup with the store working, run with it unavailable)
    "generate": (None, _cli_generate),
    "assign": (None, _cli_assign),
    "clear": (None, _cli_clear),
    # Each swap its own duty: day 0 R2-01 (call), 1 R2-02 (call), 2 R3-01 (call), 3 R2-03 (call), 4 R2-02 (PM).
    "swap execute": (lambda site: site.approved_swap("R2-01", 0, "R2-03"), _cli_swap_execute),
    "swap rollback": (lambda site: site.executed_swap("R2-02", 1, "R2-03"), _cli_swap_rollback),
    "backup restore": (Site.backup, _cli_restore),
    "program import": (None, _cli_import),
    "generate-schedule": (None, _flow_generate),
    "bulk-assign": (None, _flow_bulk_assign),
    "clear-assignments": (None, _flow_clear),
    "execute-swap": (lambda site: site.approved_swap("R3-01", 2, "R2-02"), _flow_execute),
    "request-swap": (None, _flow_request_swap),
    "rollback-swap": (lambda site: site.executed_swap("R2-02", 4, "R1-01"), _flow_rollback),
    "restore-backup": (Site.backup, _flow_restore),
    # The year plan: the program needs its academic year, or the year asked for is refused first.
    "plan": (Site.with_year, _cli_plan),
    "plan-year": (Site.with_year, _flow_plan),
    # Last: the interrupted run it cannot recover stays in flight for the check after the loop.
    "recover": (lambda site: site.interrupted_run(site.backup()), _cli_recover),
}


def test_the_writer_scenarios_are_exactly_the_registry_writers():
    assert set(WRITERS) == WRITING_COMMANDS | WRITING_FLOWS


def test_no_writer_touches_the_schedule_tables_without_its_backup(site):
    """Each command and flow that can write the schedule tables, with the backup store unavailable."""
    refusals = {}
    for name, (setup, run) in WRITERS.items():
        site.use_backups(site.backups)
        prepared = setup(site) if setup else None
        before = site.schedule_rows()
        site.use_backups(site.unavailable)
        ended = run(site, prepared)
        if name in WRITING_COMMANDS:
            refusals[name] = _refused(ended)
        else:
            assert ended.status in ("failed", "refused", "rejected"), (name, ended)
            refusals[name] = getattr(ended, "reason", "") or getattr(ended, "message", "")
        assert site.schedule_rows() == before, f"{name} changed the schedule tables without its backup"
        if name == "recover":
            assert prepared in site.in_flight()  # left for a recover that has its backup
    assert set(refusals) == set(WRITERS) and list(WRITERS)[-1] == "recover"
    # A flow's gate puts interrupted runs back first: without a backup for that, the flow writes nothing either.
    before = site.schedule_rows()
    ended = _flow_bulk_assign(site, None)
    assert ended.status == "rejected" and ended.reason.startswith("an interrupted write must be recovered first"), ended
    assert site.schedule_rows() == before and len(site.in_flight()) == 1
    # Each says why: the backup directory is unavailable (restore: the backup is not found in it).
    for name, reason in refusals.items():
        wanted = "no backup " if "restore" in name else f"the backup directory {site.unavailable} is unavailable"
        assert wanted in reason, (name, reason)


# ------------------------------------------------------------------------- read-only and record ops


def _serve_briefly(site: Site) -> None:
    """`rotaguard serve` registers the deployments with the API, then runs until stopped."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "ROTAGUARD_DATABASE_URL": site.url}
    process = subprocess.Popen(
        [sys.executable, "-m", "rotaguard", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    started = dt.datetime.now(dt.UTC)
    try:
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                assert process.poll() is None, process.stderr.read().decode()
                try:
                    deployment = client.read_deployment_by_name("clear-assignments/clear-assignments")
                except Exception:
                    deployment = None
                if deployment is not None and deployment.updated and deployment.updated >= started:
                    return
                time.sleep(0.5)
        raise AssertionError("rotaguard serve registered nothing within 120 s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _read_only_commands(site: Site, out: Path) -> dict:
    start, end = str(day(0)), str(day(6))
    site.with_year()  # the year plan's reads need the program's academic year
    swap_id = site.cli(
        "swap", "request", "--as", "R2-01", "--person", "R2-01", "--start", start, "--end", start, "--json"
    )
    swap_id = json.loads(swap_id.out)["id"]
    site.backup()
    return {
        "before": swap_id,
        "validate": ("validate", "--start", start, "--end", end, "--json"),
        "swap candidates": ("swap", "candidates", swap_id, "--as", "R2-01", "--json"),
        "health": ("health", "--json"),
        "export": ("export", "--start", start, "--end", end, "--format", "csv", "--out", str(out / "rows.csv")),
        "program export": ("program", "export", "--out", str(out / "program.json")),
        "program show": ("program", "show"),
        "program schema": ("program", "schema"),
        "program synth": ("program", "synth", "--residents", "8", "--faculty", "4", "--out", str(out / "synth.json")),
        "solve": ("solve", "--start", start, "--end", end, "--algorithm", "greedy", "--json"),
        "swap list": ("swap", "list", "--as", "C-01", "--json"),
        "audit verify": ("audit", "verify", "--json"),
        "audit list": ("audit", "list", "--json"),
        "backup list": ("backup", "list", "--json"),
        "stop": ("stop", "--json"),
        "grid": ("grid", "--start", start, "--end", end),
        "plan show": ("plan", "show"),
        "plan export": ("plan", "export", "--format", "json", "--out", str(out / "plan.json")),
    }


def test_read_only_commands_and_flows_write_nothing(site, tmp_path):
    from rotaguard.flows.validate_schedule import ValidateParams, validate_schedule

    out = tmp_path / "out"
    out.mkdir()
    commands = _read_only_commands(site, out)
    commands.pop("before")
    assert set(commands) | {"serve"} == SAFE_COMMANDS
    before = digest(site.database)
    for name, args in commands.items():
        result = site.cli(*args)
        assert result.code == 0, (name, result.err)
        assert digest(site.database) == before, f"{name} wrote to the database"
    _serve_briefly(site)
    assert digest(site.database) == before, "serve wrote to the database"
    assert SAFE_FLOWS == {"validate-schedule"}
    report = validate_schedule(ValidateParams(start=day(0), end=day(6)))
    assert report is not None and digest(site.database) == before, "validate-schedule wrote to the database"
    assert (out / "rows.csv").stat().st_size > 0 and json.loads((out / "program.json").read_text())["people"]


def test_record_commands_and_flows_change_no_schedule_row(site, s3_endpoint):
    from rotaguard.flows.nightly_backup import NightlyBackupParams, nightly_backup

    _create_bucket(site.use_s3(s3_endpoint, "rotaguard-records"))
    before = site.schedule_rows()

    def ask(giver: str, offset: int, taker: str):
        return site.cli(
            "swap",
            "request",
            "--as",
            giver,
            "--person",
            giver,
            "--start",
            str(day(offset)),
            "--end",
            str(day(offset)),
            "--with",
            taker,
            "--json",
        )

    first = json.loads(ask("R2-01", 0, "R2-03").out)["id"]
    second = json.loads(ask("R2-02", 1, "R2-03").out)["id"]
    backup_id = site.backup()
    ran = {
        "swap request": ask("R3-01", 2, "R2-01"),
        "swap accept": site.cli("swap", "accept", first, "--as", "R2-03", "--json"),
        "swap decline": site.cli("swap", "decline", second, "--as", "R2-03", "--json"),
        # Nothing of this swap needs a decision: refused with one line, and still nothing moves.
        "swap approve": site.cli("swap", "approve", first, "--as", "C-01", "--json"),
        "backup create": site.cli("backup", "create", "--json"),
        "backup verify": site.cli("backup", "verify", backup_id, "--json"),
        "backup prune": site.cli("backup", "prune", "--yes", "--json"),
        "backup offsite sync": site.cli("backup", "offsite", "sync", "--json"),
        "backup offsite fetch": _fetch_back(site, backup_id),
        "init": site.cli("init", "--json"),
    }
    assert set(ran) == set(RECORD_COMMANDS)
    for name, result in ran.items():
        assert result.code == (1 if name == "swap approve" else 0), (name, result.err)
        assert site.schedule_rows() == before, f"{name} changed the schedule tables"
    assert ran["swap approve"].err.strip() == f"rotaguard: error: swap {first} is approved, not needs_approval"
    assert set(RECORD_FLOWS) == {"nightly-backup"}
    outcome = nightly_backup(NightlyBackupParams(apply_retention=False))
    assert outcome.backup_id and outcome.offsite == "copied" and site.schedule_rows() == before


def _fetch_back(site: Site, backup_id: str):
    """The local copy lost: fetched from S3, it is verified again before anything may restore it."""
    for path in site.backups.glob(f"{backup_id}.*"):
        path.unlink()
    fetched = site.cli("backup", "offsite", "fetch", backup_id, "--json")
    assert json.loads(fetched.out)["status"] == "verified" and (site.backups / f"{backup_id}.dump").is_file(), (
        fetched.err
    )
    return fetched


def _create_bucket(s3: dict) -> None:
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3["ROTAGUARD_S3_ENDPOINT_URL"],
        region_name=s3["ROTAGUARD_S3_REGION"],
        aws_access_key_id=s3["ROTAGUARD_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=s3["ROTAGUARD_S3_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=s3["ROTAGUARD_S3_BUCKET"])


def test_recover_takes_its_verified_backup_before_restoring(site):
    """The registry requires a verified backup of recover (MEDIUM): a fresh one when the last one is
    older than the last audited change, taken before the interrupted run's range is put back."""
    from sqlalchemy import delete

    from rotaguard.db import AuditLog
    from rotaguard.db.tables import AssignmentRow

    backup_id = site.backup()
    run_id = site.interrupted_run(backup_id)
    site.approved_swap()  # an audited change after that backup: it no longer holds the current state
    with site.database.write() as session:  # what the dead run left behind in its range
        session.execute(delete(AssignmentRow).where(AssignmentRow.date == day(0)))
    recovered = site.cli("recover", "--json")
    assert recovered.code == 0, recovered.err
    assert [r["run_id"] for r in json.loads(recovered.out)["recovered"]] == [run_id] and site.in_flight() == []
    backups = json.loads(site.cli("backup", "list", "--json").out)
    taken = [b for b in backups if b["label"] == "pre-op:recover"]
    assert len(taken) == 1 and taken[0]["status"] == "verified"
    with site.database.read() as session:
        event = AuditLog(session).events(limit=1)[0]
    assert (event.action, event.subject) == ("schedule.recover", run_id)
    assert {a.person_id for a in _day_assignments(site, day(0)) if a.slot == Slot.CALL} == {"R2-01"}


def _day_assignments(site: Site, when: dt.date):
    with site.database.read() as session:
        return AssignmentRepository(session).schedule(start=when, end=when).assignments
