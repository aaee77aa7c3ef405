"""Role checks on every modifying path (issue 10, item 6): the authorization matrix of
`rotaguard.authorization` covers every `rotaguard` command and every Prefect flow, found from the
code itself, and each command or flow that modifies anything refuses the identities the matrix
does not allow, before it writes a row, takes a backup or deletes a file.

On SQLite and PostgreSQL, against the swap program (admin A-01, coordinator C-01, residents,
faculty): each modifying command is run as identities it must refuse (exit 77, one line, the whole
database unchanged, the backup directory unchanged), then as the least-privileged identity it must
allow (exit 0); each modifying flow is given approvers it must refuse, on the command line and
through its form (rejected, the schedule tables and the backups unchanged); the swap paths refuse
identities without the relation the swap table needs, and ids that name nobody, with the same
exit 77 and one line, also when the answer would go to a paused request-swap run.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

import sites
from dbstate import digest, table_rows
from entrypoints import command_paths, flows
from pausing import Running
from rotaguard.authorization import EX_NOPERM, MATRIX, AccessRole, subject_for_command, subject_for_flow
from rotaguard.db import Database
from rotaguard.operations import OPERATIONS, RECORD_COMMANDS, Risk
from rotaguard.swaps.authorization import Action
from swapdata import day
from year_plans import YEAR

pytestmark = pytest.mark.usefixtures("prefect_api")

STRANGER = "NOBODY-99"  # no one in the program
RESIDENT = "R2-01"
FACULTY = "F-01"
COORDINATOR = "C-01"
ADMIN = "A-01"
COORDINATING = frozenset({AccessRole.COORDINATOR, AccessRole.ADMIN})
ADMINS = frozenset({AccessRole.ADMIN})


# ------------------------------------------------------------------------------ the matrix itself


def test_every_command_and_flow_has_an_entry_and_every_entry_is_used():
    commands, found = command_paths(), set(flows())
    assert len(commands) >= 30 and len(found) >= 9
    unlisted = sorted(c for c in commands if subject_for_command(c) not in MATRIX)
    assert unlisted == [], "commands without an entry in the authorization matrix"
    assert sorted(f for f in found if subject_for_flow(f) not in MATRIX) == [], (
        "flows without an entry in the authorization matrix"
    )
    used = {subject_for_command(c) for c in commands} | {subject_for_flow(f) for f in found}
    assert set(MATRIX) - used == set(), "matrix entries no command or flow reaches"


def test_only_reads_and_the_schema_are_open_to_anyone():
    safe = {o.id for o in OPERATIONS if o.risk is Risk.SAFE}
    assert {subject for subject, permission in MATRIX.items() if permission.anyone} == (safe - {"candidates"}) | {
        "init"
    }
    for subject, permission in MATRIX.items():
        decided = [permission.anyone, bool(permission.roles), permission.swap_action is not None]
        assert decided.count(True) == 1, f"{subject}: exactly one way to decide"


def test_the_matrix_says_who_may_do_what():
    by_roles = {subject: permission.roles for subject, permission in MATRIX.items() if permission.roles}
    assert by_roles == {
        "generate": COORDINATING,
        "bulk_assign": COORDINATING,
        "plan_year": COORDINATING,
        "clear_range": COORDINATING,
        "recover": COORDINATING,
        "backup create": COORDINATING,
        "backup verify": COORDINATING,
        "backup offsite sync": COORDINATING,
        # Whole-database changes, and deciding who the admins are, are an admin's.
        "restore": ADMINS,
        "import_program": ADMINS,
        "backup prune": ADMINS,
        "backup offsite fetch": ADMINS,
        "nightly-backup": ADMINS,
    }
    # Until the program names an admin, the operator keeps the database whole (imports, restores,
    # recovery, backups); approving a schedule change always takes a staff member.
    assert {s for s, p in MATRIX.items() if p.bootstrap} == {
        "restore",
        "import_program",
        "recover",
        "backup create",
        "backup verify",
        "backup prune",
        "backup offsite sync",
        "backup offsite fetch",
        "nightly-backup",
    }
    by_swap = {subject: permission.swap_action for subject, permission in MATRIX.items() if permission.swap_action}
    assert by_swap == {
        "execute_swap": Action.EXECUTE,
        "rollback_swap": Action.ROLLBACK,
        "candidates": Action.VIEW,
        "swap request": Action.REQUEST,
        "swap accept": Action.ACCEPT,
        "swap decline": Action.DECLINE,
        "swap approve": Action.APPROVE,
    }


def test_the_security_document_states_the_matrix():
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    for subject, permission in MATRIX.items():
        assert f"| {subject} | {permission.who} |" in text, (
            f"docs/security.md has no row for {subject} saying {permission.who}"
        )


# ------------------------------------------------------------------------------ the site under test


class Site(sites.Site):
    """The shared site, run as whoever the test names."""

    def as_(self, actor: str, *args: str):
        self.monkeypatch.setenv("ROTAGUARD_ACTOR", actor)
        return self.cli(*args)

    def files(self) -> list[str]:
        return sorted(p.name for p in self.backups.iterdir()) if self.backups.exists() else []

    def backup_records(self) -> list:
        return table_rows(self.database)["backup_records"]

    def backup(self) -> str:
        self.monkeypatch.setenv("ROTAGUARD_ACTOR", ADMIN)
        return super().backup()


@pytest.fixture
def site(cli, database_url, tmp_path, monkeypatch, s3_endpoint, bucket):
    monkeypatch.setenv("ROTAGUARD_SMTP_HOST", "")
    made = Site(database_url, tmp_path, cli, monkeypatch)
    made.use_s3(s3_endpoint, bucket)
    yield made
    made.database.dispose()


def _not_authorized(result, actor: str) -> str:
    """Refused as the matrix refuses: exit 77 and one line naming the actor."""
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert result.code == EX_NOPERM, (result.code, result.out, result.err)
    assert len(lines) == 1 and lines[0].startswith("rotaguard: error:") and actor in lines[0], result.err
    return lines[0]


# The modifying commands the matrix decides by role: the arguments of one run (given a verified
# backup's id), the least-privileged identity allowed, and the identities refused.
def _role_checked_commands(site: Site, backup_id: str) -> dict:
    start, end = str(day(0)), str(day(6))
    rows = site.assignment_rows()
    program = json.loads(site.as_(ADMIN, "program", "export").out)
    program["people"][0]["name"] = "Renamed By The Import"
    refused_below_coordinator = (STRANGER, RESIDENT, FACULTY)
    refused_below_admin = (STRANGER, RESIDENT, COORDINATOR)
    site.with_year()  # `plan` checks the year asked for is the program's before anything else
    return {
        "generate": (
            ("generate", "--start", start, "--end", end, "--yes", "--algorithm", "greedy", "--json"),
            COORDINATOR,
            refused_below_coordinator,
        ),
        "assign": (
            ("assign", "--file", str(site.file("rows.json", json.dumps(rows))), "--yes", "--json"),
            COORDINATOR,
            refused_below_coordinator,
        ),
        "clear": (
            ("clear", "--start", start, "--end", str(day(4)), "--yes", "--confirm", f"{start}..{day(4)}", "--json"),
            COORDINATOR,
            refused_below_coordinator,
        ),
        "plan": (
            ("plan", "--year", str(YEAR), "--timeout", "5", "--yes", "--json"),
            COORDINATOR,
            refused_below_coordinator,
        ),
        "recover": (("recover", "--json"), COORDINATOR, refused_below_coordinator),
        "backup create": (("backup", "create", "--json"), COORDINATOR, refused_below_coordinator),
        "backup verify": (("backup", "verify", backup_id, "--json"), COORDINATOR, refused_below_coordinator),
        "backup offsite sync": (("backup", "offsite", "sync", "--json"), COORDINATOR, refused_below_coordinator),
        "backup offsite fetch": (("backup", "offsite", "fetch", backup_id, "--json"), ADMIN, refused_below_admin),
        "backup restore": (("backup", "restore", backup_id, "--yes", "--json"), ADMIN, refused_below_admin),
        "program import": (
            ("program", "import", str(site.file("program.json", json.dumps(program)))),
            ADMIN,
            refused_below_admin,
        ),
        "backup prune": (("backup", "prune", "--yes", "--json"), ADMIN, refused_below_admin),
    }


def test_each_modifying_command_refuses_who_the_matrix_refuses_before_anything_is_written(site):
    backup_id = site.backup()
    assert site.as_(ADMIN, "backup", "offsite", "sync", "--json").code == 0
    commands = _role_checked_commands(site, backup_id)
    role_checked = {c for c in command_paths() if MATRIX[subject_for_command(c)].roles}
    assert set(commands) == role_checked, "a role-checked command without a run here"
    for name, (args, allowed, refused) in commands.items():
        for actor in refused:
            before, files = digest(site.database), site.files()
            line = _not_authorized(site.as_(actor, *args), actor)
            assert digest(site.database) == before, f"{name} as {actor} wrote to the database"
            assert site.files() == files, f"{name} as {actor} touched the backup directory"
            if actor == STRANGER:
                assert "is not an active staff member" in line, line
            else:
                assert "may not" in line and ("admin" in line), line
        done = site.as_(allowed, *args)
        if name == "plan":
            # Allowed, then refused by its own data check: this site's program has no block rotations to
            # plan (a coordinator's published plan: tests/cli/test_cli_plan.py, at the terminal as C-01).
            assert done.code == 1 and "no block rotations to plan" in done.err, (name, allowed, done.err)
            continue
        assert done.code == 0, (name, allowed, done.err)


def test_a_refusal_names_what_was_refused_in_one_sentence(site):
    """The matrix's refusals read "<role> <id> may not <what>: that needs <who>"; the records'
    descriptions are written for it ("may not delete old backups", not "may not deletes")."""
    site.backup()
    refused = _not_authorized(site.as_(COORDINATOR, "backup", "prune", "--yes"), COORDINATOR)
    assert refused == (
        f"rotaguard: error: coordinator {COORDINATOR} may not delete old backups and their records: that needs "
        "admin (anyone with the database credentials while the program names no active admin)"
    )
    stranger = _not_authorized(site.as_(STRANGER, "backup", "create"), STRANGER)
    assert (
        f"{STRANGER!r} is not an active staff member of the program, and to write a backup and its record" in stranger
    )


def test_every_record_and_swap_command_is_checked_somewhere():
    """The commands not run above are decided by the swap table (tested below) or open to anyone."""
    for command in command_paths():
        permission = MATRIX[subject_for_command(command)]
        if not permission.roles:
            assert permission.anyone or permission.swap_action is not None, command
    assert {c for c in RECORD_COMMANDS if MATRIX[c].anyone} == {"init"}


def _swap(site: Site, giver: str, offset: int, taker: str) -> str:
    asked = site.as_(
        giver,
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
    assert asked.code == 0, asked.err
    return json.loads(asked.out)["id"]


def _approved_and_executed(site: Site) -> tuple[str, str]:
    """R2-01's call of day 0 accepted by R2-03 (approved, not executed); R2-02's ward afternoon of
    day 4 taken by R1-01 and executed."""
    to_execute = _swap(site, "R2-01", 0, "R2-03")
    assert site.as_("R2-03", "swap", "accept", to_execute, "--as", "R2-03").code == 0
    to_undo = _swap(site, "R2-02", 4, "R1-01")
    assert site.as_("R1-01", "swap", "accept", to_undo, "--as", "R1-01").code == 0
    executed = site.as_("R2-02", "swap", "execute", to_undo, "--as", "R2-02")
    assert executed.code == 0, executed.err
    return to_execute, to_undo


def _statuses(site: Site) -> list:
    from rotaguard.db.swaps import SwapRepository

    with site.database.read() as session:
        return sorted((r.id, r.status.value) for r in SwapRepository(session).list())


def test_swap_commands_refuse_who_the_swap_table_refuses(site):
    pending = _swap(site, "R2-01", 2, "R2-03")
    to_execute, to_undo = _approved_and_executed(site)
    schedule, statuses = site.schedule_rows(), _statuses(site)
    refusals = {
        "swap request": (
            "swap",
            "request",
            "--as",
            "R2-02",
            "--person",
            "R2-01",
            "--start",
            str(day(2)),
            "--end",
            str(day(2)),
            "--json",
        ),
        "swap accept": ("swap", "accept", pending, "--as", "R1-01"),
        "swap decline": ("swap", "decline", pending, "--as", FACULTY),
        "swap approve": ("swap", "approve", pending, "--as", "R2-01"),
        "swap candidates": ("swap", "candidates", pending, "--as", "R1-01"),
        "swap execute": ("swap", "execute", to_execute, "--as", "R1-01"),
        "swap rollback": (
            "swap",
            "rollback",
            to_undo,
            "--as",
            COORDINATOR,
        ),  # not the requester: an admin's, or the requester's
    }
    swap_checked = {c for c in command_paths() if MATRIX[subject_for_command(c)].swap_action is not None}
    assert set(refusals) == swap_checked, "a swap command without a refusal here"
    for name, args in refusals.items():
        actor = args[args.index("--as") + 1]
        line = _not_authorized(site.as_(actor, *args), actor)
        # Seeing the request comes first: someone it does not concern is refused the view itself.
        wanted = (f"may not {MATRIX[subject_for_command(name)].swap_action}", "may not view")
        assert any(w in line for w in wanted) and ": that needs " in line, (name, line)
        assert site.schedule_rows() == schedule and _statuses(site) == statuses, f"{name} as {actor} changed something"
    # An id that names nobody, on every swap command (`swap list` included).
    strangers = {
        "swap request": ("swap", "request", "--person", "R2-01", "--start", str(day(2)), "--end", str(day(2))),
        "swap accept": ("swap", "accept", pending),
        "swap decline": ("swap", "decline", pending),
        "swap approve": ("swap", "approve", pending),
        "swap candidates": ("swap", "candidates", pending),
        "swap execute": ("swap", "execute", to_execute),
        "swap rollback": ("swap", "rollback", to_undo),
        "swap list": ("swap", "list"),
    }
    assert set(strangers) == {c for c in command_paths() if c.startswith("swap ")}
    for name, args in strangers.items():
        line = _not_authorized(site.as_(STRANGER, *args, "--as", STRANGER), STRANGER)
        assert f"{STRANGER!r} is not an active person or staff member of the program" in line, (name, line)
        assert site.schedule_rows() == schedule and _statuses(site) == statuses, (
            f"{name} as a stranger changed something"
        )


def _paused_request_swap(site: Site) -> tuple[str, threading.Thread]:
    """A request-swap run (R2-01's call of day 0 to R2-03) paused for R2-03's answer, and its thread."""
    from prefect import get_client

    from rotaguard.db.swaps import SwapRepository
    from rotaguard.flows.request_swap import RequestSwapParams, request_swap

    params = RequestSwapParams(actor_id="R2-01", person_a="R2-01", person_b="R2-03", a_start=day(0), a_end=day(0))
    worker = threading.Thread(target=lambda: request_swap(params), daemon=True)
    worker.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and worker.is_alive():
        with site.database.read() as session:
            waiting = [r for r in SwapRepository(session).list() if r.flow_run_id]
        if waiting:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(uuid.UUID(waiting[0].flow_run_id)).state
            if state is not None and state.is_paused():
                return waiting[0].id, worker
        time.sleep(0.3)
    raise AssertionError("request-swap never paused for person B")


def test_answering_a_paused_request_swap_run_refuses_who_the_swap_table_refuses(site):
    """`swap accept|decline` resume a waiting run rather than answer in the database; whether the
    actor may answer is decided before, with the same exit 77, and the run stays paused."""
    swap_id, worker = _paused_request_swap(site)
    statuses = _statuses(site)
    for verb in ("accept", "decline"):
        # R2-01 asked for it (may see it) but is not person B (may not answer it).
        line = _not_authorized(site.as_("R2-01", "swap", verb, swap_id, "--as", "R2-01"), "R2-01")
        assert f"resident R2-01 may not {verb} swap {swap_id} as its requester and person A" in line, line
        assert _statuses(site) == statuses and worker.is_alive(), f"a refused {verb} answered the run"
    declined = site.as_("R2-03", "swap", "decline", swap_id, "--as", "R2-03", "--json")
    assert declined.code == 0 and json.loads(declined.out)["status"] == "declined", declined.err
    worker.join(timeout=90)
    assert not worker.is_alive(), "request-swap did not finish after B's answer"


# ------------------------------------------------------------------------------------------ flows


def _flow_runs(backup_id: str) -> dict:
    from rotaguard.flows.bulk_assign import BulkAssignParams, bulk_assign
    from rotaguard.flows.clear_assignments import ClearParams, clear_assignments
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
    from rotaguard.flows.plan_year import PlanYearParams, plan_year
    from rotaguard.flows.restore_backup import RestoreParams, restore_backup

    rows = [{"person": "R1-01", "date": str(day(5)), "slot": "AM", "rotation": "WARDS", "locked": False}]
    return {
        "generate-schedule": (
            lambda who: generate_schedule(
                GenerateParams(start=day(0), end=day(6), algorithm="greedy", auto_approve_as=who, lock_wait_seconds=10)
            ),
            (STRANGER, RESIDENT, FACULTY),
        ),
        "bulk-assign": (
            lambda who: bulk_assign(BulkAssignParams(assignments=rows, auto_approve_as=who, lock_wait_seconds=10)),
            (STRANGER, RESIDENT),
        ),
        "clear-assignments": (
            lambda who: clear_assignments(
                ClearParams(
                    start=day(0),
                    end=day(4),
                    confirm_range_as=who,
                    confirmation=f"{day(0)}..{day(4)}",
                    lock_wait_seconds=10,
                )
            ),
            (STRANGER, FACULTY),
        ),
        "restore-backup": (
            lambda who: restore_backup(RestoreParams(backup_id=backup_id, auto_approve_as=who, lock_wait_seconds=10)),
            (STRANGER, RESIDENT, COORDINATOR),
        ),
        "plan-year": (
            lambda who: plan_year(PlanYearParams(year=YEAR, auto_approve_as=who, lock_wait_seconds=10)),
            (STRANGER, RESIDENT, FACULTY),
        ),
    }


def test_each_approving_flow_refuses_an_approver_the_matrix_refuses_before_its_backup(site):
    backup_id = site.backup()
    site.with_year()  # plan-year looks for the year asked for before anything else
    runs = _flow_runs(backup_id)
    approving = {f for f in flows() if MATRIX[subject_for_flow(f)].roles} - {"nightly-backup"}
    assert set(runs) == approving, "a role-checked flow without a run here"
    for name, (run, refused) in runs.items():
        for approver in refused:
            schedule, records, files = site.schedule_rows(), site.backup_records(), site.files()
            outcome = run(approver)
            assert outcome.status == "rejected", (name, approver, outcome)
            assert approver in outcome.reason and (
                "may not" in outcome.reason or "is not an active staff member" in outcome.reason
            ), outcome.reason
            assert site.schedule_rows() == schedule, f"{name} approved by {approver} changed the schedule"
            assert (site.backup_records(), site.files()) == (records, files), f"{name} took a backup for {approver}"


def _approval_events(site: Site, subject: str) -> list[tuple[str, dict]]:
    from rotaguard.db import AuditLog

    with site.database.read() as session:
        return [
            (e.actor, e.details)
            for e in AuditLog(session).events()
            if e.action == "schedule.approval" and e.subject == subject
        ]


def test_an_approval_form_answered_by_someone_the_matrix_refuses_writes_nothing(site):
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule

    run_id = str(uuid.uuid4())
    schedule = site.schedule_rows()
    running = Running(
        lambda: generate_schedule(
            GenerateParams(start=day(0), end=day(6), algorithm="greedy", run_id=run_id, lock_wait_seconds=10)
        )
    )
    outcome = running.answer(run_id, {"approve": True, "approver": RESIDENT, "comment": "looks fine to me"})
    assert (outcome.status, outcome.reason) == (
        "rejected",
        f"resident {RESIDENT} may not solve and publish a date range: that needs admin or coordinator",
    )
    assert site.schedule_rows() == schedule
    [(actor, details)] = _approval_events(site, run_id)
    assert actor == RESIDENT and details["approved"] is False and details["refused"] == outcome.reason


def test_nightly_deletions_confirmed_by_a_coordinator_delete_nothing(site):
    from backupdata import old_backups
    from rotaguard.flows.nightly_backup import NightlyBackupParams, nightly_backup
    from rotaguard.tasks.context import open_store

    store = open_store(site.database)
    baseline, *old = old_backups(store, 4)
    request_id = str(uuid.uuid4())
    running = Running(lambda: nightly_backup(NightlyBackupParams(request_id=request_id)))
    outcome = running.answer(request_id, {"delete": True, "confirmed_by": COORDINATOR, "comment": "clean up"})
    assert outcome.deleted == [] and sorted(outcome.not_deleted) == sorted(old[:2])
    assert outcome.deletion_decision.startswith(
        f"deletion refused: coordinator {COORDINATOR} may not create, copy and prune backups: that needs admin"
    ), outcome.deletion_decision
    assert {baseline, *old} <= {m.id for m in store.list()}


def test_swap_flows_refuse_an_actor_without_the_relation(site):
    from rotaguard.flows.execute_swap import execute_swap
    from rotaguard.flows.request_swap import RequestSwapParams, request_swap
    from rotaguard.flows.rollback_swap import rollback_swap
    from rotaguard.flows.swap_actions import SwapActionParams

    to_execute, to_undo = _approved_and_executed(site)
    schedule, statuses = site.schedule_rows(), _statuses(site)
    swap_flows = {f for f in flows() if MATRIX[subject_for_flow(f)].swap_action is not None}
    assert swap_flows == {"execute-swap", "rollback-swap", "request-swap"}
    executed = execute_swap(SwapActionParams(swap_id=to_execute, actor_id="R1-01", lock_wait_seconds=10))
    undone = rollback_swap(
        SwapActionParams(swap_id=to_undo, actor_id="R1-01", lock_wait_seconds=10)
    )  # person B, not the requester
    for outcome, action in ((executed, "execute"), (undone, "rollback")):
        assert outcome.status == "refused" and f"may not {action}" in outcome.message, outcome
    asked = request_swap(
        RequestSwapParams(actor_id="R2-02", person_a="R2-01", person_b="R2-03", a_start=day(0), a_end=day(0))
    )
    assert asked.status == "refused" and "may not request" in asked.message, asked
    assert site.schedule_rows() == schedule and _statuses(site) == statuses


# ------------------------------------------------------------------------------------- bootstrap


def test_the_first_import_needs_no_identity_and_the_next_one_an_admin(cli, database_url, tmp_path, monkeypatch):
    """An empty database has nobody to name: the first import is the operator's; once the program
    names an admin, importing is theirs alone. A program without an admin stays the operator's."""
    from factories import program_document

    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    without_staff = program_document()
    without_staff["staff"] = []
    monkeypatch.setenv("ROTAGUARD_ACTOR", STRANGER)
    path = tmp_path / "program.json"
    path.write_text(json.dumps(without_staff))
    assert cli("program", "import", str(path)).code == 0
    path.write_text(json.dumps(program_document()))  # adds C-01 and the admin A-01
    assert cli("program", "import", str(path)).code == 0
    database = Database(database_url)
    before = digest(database)
    changed = program_document()
    changed["people"][0]["name"] = "Renamed By A Stranger"
    path.write_text(json.dumps(changed))
    _not_authorized(cli("program", "import", str(path)), STRANGER)
    monkeypatch.setenv("ROTAGUARD_ACTOR", COORDINATOR)
    _not_authorized(cli("program", "import", str(path)), COORDINATOR)
    assert digest(database) == before
    monkeypatch.setenv("ROTAGUARD_ACTOR", ADMIN)
    assert cli("program", "import", str(path)).code == 0
    database.dispose()
