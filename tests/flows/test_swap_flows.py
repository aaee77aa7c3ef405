"""The swap flows against a real Prefect API, a real database and a real SMTP server on loopback."""

import threading
import time

import pytest

from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.domain import Slot
from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
from rotaguard.swaps import SwapService
from smtp_mailbox import Mailbox, free_port
from swapdata import day, seed


@pytest.fixture
def swap_env(flow_env, monkeypatch):
    database = Database(flow_env)
    seed(database)
    monkeypatch.setenv("ROTAGUARD_SMTP_STARTTLS", "false")
    monkeypatch.setenv("ROTAGUARD_SMTP_FROM", "rotaguard@residency.example")
    yield database
    database.dispose()


def _approved_absorb(database) -> str:
    swaps = SwapService(database)
    asked = swaps.request(
        actor_id="R2-01",
        kind=SwapKind.ABSORB,
        person_a="R2-01",
        person_b="R2-03",
        range_a=DateRange(start=day(0), end=day(0)),
    )
    assert swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True).request.status is SwapStatus.APPROVED
    return asked.request.id


def _holder(database, when, slot):
    with database.read() as session:
        return [
            a.person_id
            for a in AssignmentRepository(session).schedule(start=when, end=when).assignments
            if a.slot == slot
        ]


def _actions(database):
    with database.read() as session:
        assert AuditLog(session).verify().ok
        return [e.action for e in reversed(AuditLog(session).events())]


def test_execute_and_rollback_flows_move_audit_and_email_both_people(swap_env, monkeypatch):
    from rotaguard.flows.execute_swap import execute_swap
    from rotaguard.flows.rollback_swap import rollback_swap
    from rotaguard.flows.swap_actions import SwapActionParams

    database = swap_env
    swap_id = _approved_absorb(database)
    with Mailbox() as mailbox:
        monkeypatch.setenv("ROTAGUARD_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROTAGUARD_SMTP_PORT", str(mailbox.port))
        executed = execute_swap(SwapActionParams(swap_id=swap_id, actor_id="R2-01"))
        assert executed.status == "executed" and executed.changed and executed.backup_id
        assert _holder(database, day(0), Slot.CALL) == ["R2-03"]
        again = execute_swap(SwapActionParams(swap_id=swap_id, actor_id="R2-01"))
        assert again.status == "executed" and not again.changed
        rolled = rollback_swap(SwapActionParams(swap_id=swap_id, actor_id="R2-01"))
        assert rolled.status == "rolled_back" and _holder(database, day(0), Slot.CALL) == ["R2-01"]
        deadline = time.monotonic() + 10
        while len(mailbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    subjects = [m["Subject"] for m in mailbox.messages]
    assert subjects == [f"RotaGuard swap {swap_id}: executed", f"RotaGuard swap {swap_id}: rolled_back"]
    assert all(m["X-Envelope-To"] == "r2-01@residency.example, r2-03@residency.example" for m in mailbox.messages)
    assert "R2-01 -> R2-03" in mailbox.messages[0].get_payload()
    assert _actions(database)[-2:] == ["swap.execute", "swap.rollback"]


def test_an_smtp_outage_never_undoes_the_swap(swap_env, monkeypatch):
    import rotaguard.tasks.swaps as tasks
    from rotaguard.flows.execute_swap import execute_swap
    from rotaguard.flows.swap_actions import SwapActionParams

    database = swap_env
    swap_id = _approved_absorb(database)
    monkeypatch.setenv("ROTAGUARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ROTAGUARD_SMTP_PORT", str(free_port()))  # nobody listens
    monkeypatch.setattr(tasks, "send_swap_email", tasks.send_swap_email.with_options(retry_delay_seconds=0))
    executed = execute_swap(SwapActionParams(swap_id=swap_id, actor_id="R2-01"))
    assert executed.status == "executed"
    assert _holder(database, day(0), Slot.CALL) == ["R2-03"]
    assert _actions(database)[-1] == "swap.notify_failed"


def test_a_refused_execution_ends_refused_and_changes_nothing(swap_env):
    from rotaguard.flows.execute_swap import execute_swap
    from rotaguard.flows.swap_actions import SwapActionParams

    database = swap_env
    swap_id = _approved_absorb(database)
    outcome = execute_swap(SwapActionParams(swap_id=swap_id, actor_id="R2-02"))  # not part of it
    assert outcome.status == "refused" and "may not execute" in outcome.message
    assert _holder(database, day(0), Slot.CALL) == ["R2-01"]


def test_the_request_flow_waits_for_b_and_the_cli_answer_resumes_it(swap_env, cli):
    from rotaguard.flows.request_swap import RequestSwapParams, request_swap

    database = swap_env
    box = {}
    params = RequestSwapParams(actor_id="R2-01", person_a="R2-01", person_b="R2-03", a_start=day(0), a_end=day(0))
    worker = threading.Thread(target=lambda: box.update(outcome=request_swap(params)), daemon=True)
    worker.start()
    swap_id = _wait_for_paused_request(database)
    answered = cli("swap", "accept", swap_id, "--as", "R2-03", "--json")
    assert answered.code == 0, answered.err
    worker.join(timeout=180)
    assert box["outcome"].status == "executed", box["outcome"]
    assert _holder(database, day(0), Slot.CALL) == ["R2-03"]
    assert _actions(database)[-4:] == ["swap.request", "swap.accept", "swap.validate", "swap.execute"]


def _wait_for_paused_request(database, seconds=90) -> str:
    from uuid import UUID

    from prefect import get_client
    from prefect.client.schemas.objects import StateType

    from rotaguard.db.swaps import SwapRepository

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with database.read() as session:
            requests = SwapRepository(session).list()
        if requests and requests[0].flow_run_id:
            with get_client(sync_client=True) as client:
                if client.read_flow_run(UUID(requests[0].flow_run_id)).state.type is StateType.PAUSED:
                    return requests[0].id
        time.sleep(0.5)
    raise AssertionError("the request-swap flow never paused for person B")


def test_the_whole_swap_from_the_cli_with_e_mail(swap_env, cli, monkeypatch):
    import json

    database = swap_env
    with Mailbox() as mailbox:
        monkeypatch.setenv("ROTAGUARD_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROTAGUARD_SMTP_PORT", str(mailbox.port))
        asked = cli(
            "swap",
            "request",
            "--as",
            "R2-01",
            "--person",
            "R2-01",
            "--start",
            str(day(0)),
            "--end",
            str(day(0)),
            "--json",
        )
        assert asked.code == 0, asked.err
        offered = json.loads(asked.out)["candidates"]
        taker = offered[0]["person_id"]
        swap_id = json.loads(asked.out)["id"]
        accepted = cli("swap", "accept", swap_id, "--as", taker, "--json")
        assert accepted.code == 0, accepted.err
        assert json.loads(accepted.out)["status"] == "approved"
        executed = cli("swap", "execute", swap_id, "--as", "R2-01", "--json")
        assert executed.code == 0, executed.err
        assert json.loads(executed.out)["status"] == "executed" and _holder(database, day(0), Slot.CALL) == [taker]
        denied = cli("swap", "rollback", swap_id, "--as", taker)
        assert denied.code == 77 and denied.err.count("\n") == 1, denied.err
        assert denied.err.startswith(f"rotaguard: error: resident {taker} may not rollback swap {swap_id}")
        rolled = cli("swap", "rollback", swap_id, "--as", "R2-01", "--json")
        assert rolled.code == 0 and json.loads(rolled.out)["status"] == "rolled_back"
        assert _holder(database, day(0), Slot.CALL) == ["R2-01"]
        deadline = time.monotonic() + 10
        while len(mailbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [m["Subject"].rsplit(": ", 1)[1] for m in mailbox.messages] == ["executed", "rolled_back"]
    assert _actions(database)[-3:] == ["swap.execute", "swap.denied", "swap.rollback"]
