"""The deployments `rotaguard serve` registers, run the way the Prefect UI runs them, on SQLite and PostgreSQL.

`rotaguard serve` runs as a subprocess against the session's real `prefect server start`. The
tests then do through the API what the UI's buttons do: **Run** on a deployment creates a flow
run from it (`create_flow_run_from_deployment` with the whole `params` object the form holds),
and **Resume** on a paused run sends the form's answer (`resume_flow_run` with `run_input`).
The served process picks the runs up and runs each flow in a subprocess of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from served import client_for, serving

from backupdata import old_backups
from factories import program_document
from rotaguard.backups import BackupStore
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.swaps import SwapRepository
from rotaguard.db.tables import AssignmentRow, ScheduleRunRow
from rotaguard.domain import Slot
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document
from rotaguard.solver import LEVELS
from swapdata import day, seed

START, END = dt.date(2026, 3, 12), dt.date(2026, 3, 14)
APPROVER = "A-01"  # the fixture program's admin: the nightly deletion and the restore need one
PAUSE_SECONDS = 120  # pick-up, a subprocess, backup, health and data checks until the pause
FINISH_SECONDS = 180  # solve, write, validate and publish (or execute) after the answer


def _seed_program(database_url: str) -> None:
    document = program_document()
    document["rotations"][1]["residents"]["min"] = 0  # solvable: the schedule publishes
    database = Database(database_url)
    try:
        import_document(database, parse_document(json.dumps(document)), actor="test", source="factory")
    finally:
        database.dispose()


def _with(database_url: str, read):
    database = Database(database_url)
    try:
        with database.read() as session:
            return read(session)
    finally:
        database.dispose()


def _backups(tmp_path: Path) -> set[str]:
    return {p.name for p in (tmp_path / "backups").glob("*.dump")} if (tmp_path / "backups").exists() else set()


def test_served_deployments_generate_with_the_ui_approval_and_validate(prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import PrefectHTTPStatusError

    from rotaguard.deployments.definitions import SPECS, default_parameters

    _seed_program(database_url)
    with serving(database_url, prefect_server, tmp_path) as served:
        deployments = served.wait_until_serving()
        for spec in SPECS:
            deployment = deployments[spec.name]
            assert (deployment.description, deployment.entrypoint, deployment.paused) == (
                spec.description,
                spec.module_entrypoint,
                False,
            )
            # Serving started today: the same defaults the definitions give (a test running across midnight may differ).
            assert deployment.parameters == default_parameters(spec), spec.name
        # The nightly backup is on its schedule: 02:00 in the stored program's time zone.
        (nightly,) = deployments["nightly-backup"].schedules
        assert (nightly.schedule.cron, nightly.schedule.timezone, nightly.active) == (
            "0 2 * * *",
            "America/New_York",
            True,
        )
        assert all(not deployments[name].schedules for name in deployments if name != "nightly-backup")
        generate = deployments["generate-schedule"]
        assert generate.parameter_openapi_schema["properties"]["params"]["$ref"] == "#/definitions/GenerateParams"

        # The run form with Start cleared: the API refuses it, nothing runs. The server merges a run's
        # parameters over the defaults at the top level only, so a form always sends all of params.
        partial = {k: v for k, v in generate.parameters["params"].items() if k != "start"}
        with pytest.raises(PrefectHTTPStatusError, match="start"):
            with client_for(prefect_server) as client:
                client.create_flow_run_from_deployment(generate.id, parameters={"params": partial})

        # The form as a coordinator fills it in: the defaults, another range and a shorter solve.
        params = {
            **generate.parameters["params"],
            "start": str(START),
            "end": str(END),
            "timeout_seconds": 30,
            "approval_timeout_seconds": 600,
        }
        flow_run_id = served.run(generate, params)
        paused = served.wait_for(flow_run_id, StateType.PAUSED, PAUSE_SECONDS)
        description, schema = served.pause_form(paused)
        assert description.startswith(f"## Approve schedule generation {START} .. {END}")
        assert schema["required"] == ["approver"] and schema["properties"]["approve"]["type"] == "boolean"
        served.resume(flow_run_id, {"approve": True, "approver": APPROVER, "comment": "approved from the deployment"})
        served.wait_for(flow_run_id, StateType.COMPLETED, FINISH_SECONDS)

        artifacts = served.artifacts(flow_run_id)
        assert {key: kind for key, (kind, _) in artifacts.items()} == {
            "metrics": "table",
            "violations": "table",
            "schedule-grid": "markdown",
            "solver-priorities": "table",
        }
        priorities = [row["priority"] for row in artifacts["solver-priorities"][1]]
        levels = [level.id for level in LEVELS]
        assert priorities[0] == "staffing" and set(priorities) <= {*levels, "shortfall"}
        ordered = [p for p in priorities if p != "shortfall"]
        assert ordered == sorted(ordered, key=levels.index)  # in the order they were solved
        metrics = {row["metric"]: row["value"] for row in artifacts["metrics"][1]}
        assert (metrics["tier1_violations"], metrics["demand_coverage"]) == ("0", "1.0")
        assert [row["rule"] for row in artifacts["violations"][1]] == ["none"]
        assert artifacts["schedule-grid"][1].startswith(f"## Schedule {START} .. {END}")
        # The generation's record: its run id is the flow run's, approved by the name typed in the form.
        row = _with(database_url, lambda s: s.get(ScheduleRunRow, str(flow_run_id)))
        assert (row.status, row.approved_by, row.flow_run_id) == ("published", APPROVER, str(flow_run_id))
        made = _with(database_url, lambda s: AssignmentRepository(s).schedule(start=START, end=END).assignments)
        assert any(a.source == "solver" for a in made)

        # validate-schedule: read-only, so it writes nothing and takes no backup.
        events = _with(database_url, lambda s: len(AuditLog(s).events()))
        backups = _backups(tmp_path)
        validate = deployments["validate-schedule"]
        checked = served.run(validate, {"start": str(START), "end": str(END), "require_n1": False})
        quick = served.run(validate, {})  # Quick run: the deployment's defaults, the next block
        served.wait_for(checked, StateType.COMPLETED, FINISH_SECONDS)
        served.wait_for(quick, StateType.COMPLETED, FINISH_SECONDS)
        checked_metrics = {row["metric"]: row["value"] for row in served.artifacts(checked)["validation-metrics"][1]}
        assert (checked_metrics["tier1_violations"], checked_metrics["demand_coverage"]) == ("0", "1.0")
        assert set(served.artifacts(quick)) == {"validation-metrics", "validation-violations"}
        assert _with(database_url, lambda s: len(AuditLog(s).events())) == events
        assert _backups(tmp_path) == backups


def test_served_swap_deployments_request_answer_execute_and_roll_back(prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType

    database = Database(database_url)
    try:
        seed(database)
    finally:
        database.dispose()

    def holders():
        assignments = _with(
            database_url, lambda s: AssignmentRepository(s).schedule(start=day(0), end=day(0)).assignments
        )
        return [a.person_id for a in assignments if a.slot == Slot.CALL]

    def swap():
        requests = _with(database_url, lambda s: SwapRepository(s).list())
        assert len(requests) == 1
        return requests[0]

    assert holders() == ["R2-01"]
    with serving(database_url, prefect_server, tmp_path) as served:
        deployments = served.wait_until_serving()
        request = deployments["request-swap"]
        params = {
            **request.parameters["params"],
            "actor_id": "R2-01",
            "person_a": "R2-01",
            "person_b": "R2-03",
            "a_start": str(day(0)),
            "a_end": str(day(0)),
            "reason": "conference",
        }
        flow_run_id = served.run(request, params)
        paused = served.wait_for(flow_run_id, StateType.PAUSED, PAUSE_SECONDS)
        description, schema = served.pause_form(paused)
        asked = swap()
        assert (asked.status.value, asked.flow_run_id) == ("pending", str(flow_run_id))
        assert description.startswith(f"## Swap {asked.id}: absorb from R2-01") and "R2-01 -> R2-03" in description
        assert schema["required"] == ["answered_by"]
        served.resume(flow_run_id, {"accept": True, "answered_by": "R2-03", "comment": "ok"})
        served.wait_for(flow_run_id, StateType.COMPLETED, FINISH_SECONDS)
        assert swap().status.value == "executed"
        assert holders() == ["R2-03"]

        # execute-swap from its deployment on the executed swap: a no-op that says so.
        execute = deployments["execute-swap"]
        again = served.run(execute, {**execute.parameters["params"], "swap_id": asked.id, "actor_id": "R2-03"})
        served.wait_for(again, StateType.COMPLETED, FINISH_SECONDS)
        assert served.wait_for_log(again, f"swap {asked.id} was already executed at ")
        assert (swap().status.value, holders()) == ("executed", ["R2-03"])

        rollback = deployments["rollback-swap"]
        rolled = served.run(rollback, {**rollback.parameters["params"], "swap_id": asked.id, "actor_id": "R2-01"})
        served.wait_for(rolled, StateType.COMPLETED, FINISH_SECONDS)
        assert swap().status.value == "rolled_back"
        assert holders() == ["R2-01"]
        kind, moves = served.artifacts(rolled)["unswap-moves"]
        assert kind == "table" and [(m["from"], m["to"]) for m in moves] == [("R2-03", "R2-01")]

    actions = _with(
        database_url, lambda s: (AuditLog(s).verify().ok, [e.action for e in reversed(AuditLog(s).events())])
    )
    assert actions[0] and actions[1][-5:] == [
        "swap.request",
        "swap.accept",
        "swap.validate",
        "swap.execute",
        "swap.rollback",
    ]


def test_served_backup_deployments_confirm_deletions_and_restore_with_approval(prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType

    _seed_program(database_url)
    database = Database(database_url)
    store = BackupStore(database=database, directory=tmp_path / "backups")
    baseline, deletable, newest_old = old_backups(store, 3)
    try:
        with serving(database_url, prefect_server, tmp_path) as served:
            deployments = served.wait_until_serving()

            # nightly-backup, Quick run (what its schedule starts): backup, then a pause before deleting.
            nightly = served.run(deployments["nightly-backup"], {})
            paused = served.wait_for(nightly, StateType.PAUSED, PAUSE_SECONDS)
            description, schema = served.pause_form(paused)
            assert description.startswith("## Confirm deleting 1 old backup") and f"| {deletable} |" in description
            assert f"| {baseline} |" not in description and f"| {newest_old} |" not in description
            assert schema["required"] == ["confirmed_by"] and schema["properties"]["delete"]["type"] == "boolean"
            assert (tmp_path / "backups" / f"{deletable}.dump").exists()  # nothing deleted while waiting
            served.resume(nightly, {"delete": True, "confirmed_by": APPROVER, "comment": "monthly clean-up"})
            served.wait_for(nightly, StateType.COMPLETED, FINISH_SECONDS)
            assert not (tmp_path / "backups" / f"{deletable}.dump").exists()
            kind, rows = served.artifacts(nightly)["nightly-backup"]
            actions = {row["backup"]: row["action"] for row in rows}
            assert kind == "table" and actions[deletable] == "deleted" and actions[baseline] == "kept"
            made = [m for m in store.list() if m.id not in (baseline, newest_old)]
            assert len(made) == 1 and made[0].status.value == "verified" and actions[made[0].id] == "kept"

            # A bad edit, then restore-backup from the nightly backup: a pause showing the row counts.
            wanted = _with(database_url, lambda s: AssignmentRepository(s).digest(start=START, end=END))
            with database.write() as session:
                session.execute(AssignmentRow.__table__.delete().where(AssignmentRow.date == START))
            restore = deployments["restore-backup"]
            restoring = served.run(restore, {**restore.parameters["params"], "backup_id": made[0].id})
            paused = served.wait_for(restoring, StateType.PAUSED, PAUSE_SECONDS)
            description, schema = served.pause_form(paused)
            assert (
                description.startswith("## Approve restoring the whole database") and "| assignments |" in description
            )
            assert schema["required"] == ["approver"]
            served.resume(restoring, {"approve": True, "approver": APPROVER, "comment": "undo the bad edit"})
            served.wait_for(restoring, StateType.COMPLETED, FINISH_SECONDS)
            assert _with(database_url, lambda s: AssignmentRepository(s).digest(start=START, end=END)) == wanted
            changes = {row["table"]: row for row in served.artifacts(restoring)["restore-changes"][1]}
            assert changes["assignments"]["change"] == 2
    finally:
        database.dispose()
    actions = _with(
        database_url, lambda s: (AuditLog(s).verify().ok, [(e.actor, e.action) for e in AuditLog(s).events()])
    )
    assert actions[0]
    assert {(APPROVER, "backup.prune"), (APPROVER, "backup.restore_approval"), (APPROVER, "backup.restore")} <= set(
        actions[1]
    )


def test_served_bulk_assign_and_clear_deployments_with_their_ui_approvals(prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType

    march_11, march_12, march_13 = dt.date(2026, 3, 11), dt.date(2026, 3, 12), dt.date(2026, 3, 13)
    _seed_program(database_url)

    def rows(start, end):
        return _with(
            database_url,
            lambda s: sorted(
                (a.person_id, str(a.date), a.slot, a.locked)
                for a in AssignmentRepository(s).schedule(start=start, end=end).assignments
            ),
        )

    with serving(database_url, prefect_server, tmp_path) as served:
        deployments = served.wait_until_serving()

        # bulk-assign: the form's rows; a pause with what will be written; nothing before the answer.
        bulk = deployments["bulk-assign"]
        loaded = [
            {"person": "R1-01", "date": str(march_13), "slot": "AM", "rotation": "WARDS", "locked": False},
            {"person": "F-01", "date": str(march_13), "slot": "AM", "rotation": "WARDS", "locked": True},
        ]
        loading = served.run(bulk, {**bulk.parameters["params"], "assignments": loaded, "actor": "Chief Resident"})
        paused = served.wait_for(loading, StateType.PAUSED, PAUSE_SECONDS)
        description, schema = served.pause_form(paused)
        assert (
            description.startswith(f"## Approve loading 2 assignments, {march_13} .. {march_13}")
            and "2 new, 0 changed" in description
        )
        assert schema["required"] == ["approver"] and rows(march_13, march_13) == []
        served.resume(loading, {"approve": True, "approver": APPROVER, "comment": "block prepared in the spreadsheet"})
        served.wait_for(loading, StateType.COMPLETED, FINISH_SECONDS)
        assert rows(march_13, march_13) == [("F-01", str(march_13), "AM", True), ("R1-01", str(march_13), "AM", False)]
        row = _with(database_url, lambda s: s.get(ScheduleRunRow, str(loading)))
        assert (row.status, row.approved_by, row.algorithm) == ("published", APPROVER, "bulk_assign")

        # clear-assignments (CRITICAL): the form lists what goes, per person and rotation, and wants the range typed.
        clear = deployments["clear-assignments"]
        params = {**clear.parameters["params"], "start": str(march_11), "end": str(march_12)}
        wrong = served.run(clear, params)
        paused = served.wait_for(wrong, StateType.PAUSED, PAUSE_SECONDS)
        description, schema = served.pause_form(paused)
        assert description.startswith(f"## CRITICAL: delete 2 assignments, {march_11} .. {march_12}")
        assert (
            "| R1-01 | WARDS | 1 |" in description
            and "| F-01 | WARDS | 1 |" in description
            and "1 locked ones are kept" in description
        )
        assert set(schema["required"]) == {"approver", "typed_range"}
        served.resume(wrong, {"approve": True, "approver": APPROVER, "typed_range": f"{march_11}..{march_13}"})
        served.wait_for(wrong, StateType.COMPLETED, FINISH_SECONDS)
        assert len(rows(march_11, march_12)) == 3  # a range typed wrong deletes nothing
        assert _with(database_url, lambda s: s.get(ScheduleRunRow, str(wrong)).status) == "rejected"

        right = served.run(clear, params)
        served.wait_for(right, StateType.PAUSED, PAUSE_SECONDS)
        served.resume(
            right,
            {
                "approve": True,
                "approver": APPROVER,
                "typed_range": f"{march_11}..{march_12}",
                "comment": "start the block over",
            },
        )
        served.wait_for(right, StateType.COMPLETED, FINISH_SECONDS)
        assert rows(march_11, march_12) == [("R2-01", str(march_11), "CALL", True)]
        cleared = _with(database_url, lambda s: s.get(ScheduleRunRow, str(right)))
        assert (cleared.status, cleared.approved_by) == ("cleared", APPROVER)
        assert (cleared.metrics["deleted"], cleared.metrics["kept_locked"]) == (2, 1)
    audit = _with(
        database_url,
        lambda s: (AuditLog(s).verify().ok, [(e.actor, e.action, e.details) for e in AuditLog(s).events()]),
    )
    assert audit[0]
    clears = [details for actor, action, details in audit[1] if (actor, action) == (APPROVER, "schedule.clear")]
    assert len(clears) == 1 and clears[0]["deleted"] == 2 and clears[0]["backup_id"] == cleared.backup_id
    approvals = [
        details for actor, action, details in audit[1] if action == "schedule.approval" and details.get("requested_by")
    ]
    assert approvals == [
        {
            "operation": "bulk_assign",
            "requested_by": "Chief Resident",
            "approved": True,
            "comment": "block prepared in the spreadsheet",
        }
    ]
