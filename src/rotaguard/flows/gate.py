"""What every flow that writes the schedule tables shares: the schedule-writes slot and lock, the
run record and its audit, and the approval pause."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prefect import get_run_logger

from rotaguard.db import AuditLog
from rotaguard.db.locks import SCHEDULE_WRITES, LockLease
from rotaguard.db.runs import IN_FLIGHT, WAITING, ScheduleRunRepository, waiting_marker
from rotaguard.errors import RotaGuardError
from rotaguard.flows.slots import schedule_writes_slot
from rotaguard.tasks.context import backup_store, database_session

if TYPE_CHECKING:
    from rotaguard.recovery import Recovered

LOCKED = "locked: another schedule write is in progress"


@dataclass(frozen=True)
class Gate:
    """Whether this run may write, and why not when it may not."""

    held: bool
    refusal: str = ""

    def __bool__(self) -> bool:
        return self.held


@contextmanager
def holding_schedule_writes(
    holder: str, wait_seconds: int, *, recover: bool = False, approver: str | None = None, subject: str | None = None
) -> Iterator[Gate]:
    """The Prefect slot (strict: a missing limit is an error, not no limit) and the database lock,
    renewed while held; not held when either could not be had within ``wait_seconds``. With
    ``recover``, runs that died mid-write are put back first (holding the lock, none can be alive);
    when that fails (no backup for it, say) this run writes nothing either. An ``approver`` known
    in advance (approving on the command line) who may not approve ``subject`` is refused before
    anything else, the backup included."""
    if approver is not None and subject is not None:
        refused = approver_refusal(approver, subject)
        if refused:
            yield Gate(held=False, refusal=refused)
            return
    with ExitStack() as stack:
        lock_database = stack.enter_context(database_session())
        try:
            # A holder killed on this machine is given back its slot at once (flows/slots.py); one killed
            # elsewhere holds it until its lease lapses: at most 60 s after the kill, plus the server's
            # repossessor loop (5 s on the local server, 15 s by default: 75 s at most).
            stack.enter_context(schedule_writes_slot(wait_seconds))
        except TimeoutError:
            yield Gate(held=False, refusal=LOCKED)
            return
        lease = stack.enter_context(
            LockLease(lock_database, name=SCHEDULE_WRITES, holder=holder, wait_seconds=wait_seconds)
        )
        if not lease.held:
            yield Gate(held=False, refusal=LOCKED)
            return
        if recover:
            try:
                for recovered in _recover_interrupted(holder):
                    get_run_logger().warning("recovered interrupted run %s: %s", recovered.run_id, recovered.detail)
            except RotaGuardError as error:
                yield Gate(
                    held=False, refusal=f"an interrupted write must be recovered first, and could not be: {error}"
                )
                return
        yield Gate(held=True)


@dataclass(frozen=True)
class Verdict:
    """What an approval answer decided: approved, or why not (``refused`` when the matrix said no),
    and who answered (None when nobody did in time)."""

    approved: bool
    reason: str = ""
    refused: str | None = None
    answered_by: str | None = None

    @property
    def approved_by(self) -> str | None:
        """Who approved; None unless approved."""
        return self.answered_by if self.approved else None


def judge_approval(approver: str | None, approves: bool, subject: str) -> Verdict:
    """An answer approves ``subject`` when it was given (``approver`` is None when the pause timed
    out), says yes, and comes from someone the authorization matrix allows."""
    if approver is None:
        return Verdict(approved=False, reason="approval timed out")
    if not approves:
        return Verdict(approved=False, reason=f"rejected by {approver}", answered_by=approver)
    refused = approver_refusal(approver, subject)
    if refused:
        return Verdict(approved=False, reason=refused, refused=refused, answered_by=approver)
    return Verdict(approved=True, answered_by=approver)


class ApprovalAnswer(Protocol):
    """An approval form's answer (``Approval``, ``ClearConfirmation``): yes or no, by whom, and why."""

    @property
    def approve(self) -> bool: ...

    @property
    def approver(self) -> str: ...

    @property
    def comment(self) -> str: ...


Answer = TypeVar("Answer", bound=ApprovalAnswer)


def settle_approval(
    answer: Answer | None,
    subject: str,
    *,
    action: str,
    audited_subject: str,
    details: dict[str, Any],
    confirm: Callable[[Answer], str | None] | None = None,
) -> Verdict:
    """Judge ``answer`` (None: nobody answered in time) for ``subject`` under the authorization
    matrix, and audit the decision, refused or not, as ``action`` on ``audited_subject``.
    ``confirm`` checks what else an approving answer must hold (the range typed to clear): the
    reason it does not, or None; such an answer is audited as not approved."""
    approver = answer.approver if answer is not None else None
    verdict = judge_approval(approver, answer is not None and answer.approve, subject)
    unconfirmed = confirm(answer) if verdict.approved and confirm is not None and answer is not None else None
    if unconfirmed:
        verdict = Verdict(approved=False, reason=unconfirmed, answered_by=approver)
    refusal_detail = {"refused": verdict.refused} if verdict.refused else {}
    record = {
        **details,
        "approved": verdict.approved,
        "comment": answer.comment if answer is not None else "timed out",
        **refusal_detail,
    }
    audit(action, audited_subject, record, actor=approver or "nobody")
    return verdict


def approver_refusal(approver: str, subject: str) -> str | None:
    """Why ``approver`` may not approve ``subject`` under the authorization matrix (the stored
    program's staff decide), or None when they may."""
    from rotaguard.authorization import refusal
    from rotaguard.interchange.importer import load_program

    with database_session() as database:
        stored = load_program(database)
    return refusal(stored[0] if stored else None, approver, subject)


def record_run(run_id: str, **values: Any) -> None:
    with database_session() as database, database.write() as session:
        ScheduleRunRepository(session).update(run_id=run_id, **values)


def create_run(
    run_id: str, *, start: dt.date, end: dt.date, algorithm: str, flow_run_id: str | None, wait_seconds: float = 0
) -> None:
    """The run's record, before it waits for the schedule writes: it names this process and says it
    is waiting (until ``wait_seconds`` for the slot and as long again for the lock), so that the
    recovery of the writer ahead of it does not close it as interrupted (issue 26, item 9)."""
    with database_session() as database, database.write() as session:
        ScheduleRunRepository(session).create(
            run_id=run_id, start=start, end=end, algorithm=algorithm, flow_run_id=flow_run_id
        )
        ScheduleRunRepository(session).update(run_id=run_id, metrics=waiting_marker(wait_seconds))


def mark_gate_held(run_id: str) -> None:
    """The run holds the schedule writes now: no longer waiting. A record a recovery closed meanwhile
    (a clock far off, say) is this run's again: running, without the "interrupted" text."""
    with database_session() as database, database.write() as session:
        runs = ScheduleRunRepository(session)
        row = runs.get(run_id=run_id)
        if row is None:
            return
        reopened = {"status": "running", "error": None, "finished_at": None} if row.status not in IN_FLIGHT else {}
        runs.update(run_id=run_id, metrics={WAITING: False}, **reopened)


def audit(action: str, subject: str, details: dict[str, Any], actor: str = "rotaguard") -> None:
    with database_session() as database, database.write() as session:
        AuditLog(session).append(actor=actor, action=action, subject=subject, details=details)


def _recover_interrupted(own_run_id: str) -> list[Recovered]:
    """Runs that died mid-write are put back before this one starts (the caller holds the lock)."""
    from rotaguard.recovery import recover_interrupted

    with backup_store() as store:
        return recover_interrupted(store.database, store, actor="rotaguard", skip=own_run_id)
