"""What every flow that writes the schedule tables shares: the schedule-writes slot and lock, the
run record and its audit, and the approval pause."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from prefect import get_run_logger

from rotaguard.db import AuditLog
from rotaguard.db.locks import SCHEDULE_WRITES, LockLease
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.errors import RotaGuardError
from rotaguard.flows.slots import schedule_writes_slot
from rotaguard.tasks.context import open_database

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
    lock_database = open_database()
    with ExitStack() as stack:
        stack.callback(lock_database.dispose)
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
    """What an approval answer decided: approved, or why not (``refused`` when the matrix said no)."""

    approved: bool
    reason: str = ""
    refused: str | None = None


def judge_approval(approver: str | None, approves: bool, subject: str) -> Verdict:
    """An answer approves ``subject`` when it was given (``approver`` is None when the pause timed
    out), says yes, and comes from someone the authorization matrix allows."""
    if approver is None:
        return Verdict(approved=False, reason="approval timed out")
    if not approves:
        return Verdict(approved=False, reason=f"rejected by {approver}")
    refused = approver_refusal(approver, subject)
    if refused:
        return Verdict(approved=False, reason=refused, refused=refused)
    return Verdict(approved=True)


def audit_approval(
    action: str, subject: str, verdict: Verdict, *, approver: str | None, comment: str | None, details: dict
) -> None:
    """The approval event, refused or not, in the audit chain (``nobody`` answered a timed-out pause)."""
    refusal_detail = {"refused": verdict.refused} if verdict.refused else {}
    record = {
        **details,
        "approved": verdict.approved,
        "comment": comment if approver is not None else "timed out",
        **refusal_detail,
    }
    audit(action, subject, record, actor=approver or "nobody")


def approver_refusal(approver: str, subject: str) -> str | None:
    """Why ``approver`` may not approve ``subject`` under the authorization matrix (the stored
    program's staff decide), or None when they may."""
    from rotaguard.authorization import refusal
    from rotaguard.interchange.importer import load_program

    database = open_database()
    try:
        stored = load_program(database)
    finally:
        database.dispose()
    return refusal(stored[0] if stored else None, approver, subject)


def record_run(run_id: str, **values) -> None:
    database = open_database()
    try:
        with database.write() as session:
            ScheduleRunRepository(session).update(run_id=run_id, **values)
    finally:
        database.dispose()


def create_run(run_id: str, *, start, end, algorithm: str, flow_run_id: str | None) -> None:
    database = open_database()
    try:
        with database.write() as session:
            ScheduleRunRepository(session).create(
                run_id=run_id, start=start, end=end, algorithm=algorithm, flow_run_id=flow_run_id
            )
    finally:
        database.dispose()


def audit(action: str, subject: str, details: dict, actor: str = "rotaguard") -> None:
    database = open_database()
    try:
        with database.write() as session:
            AuditLog(session).append(actor=actor, action=action, subject=subject, details=details)
    finally:
        database.dispose()


def _recover_interrupted(own_run_id: str):
    """Runs that died mid-write are put back before this one starts (the caller holds the lock)."""
    from rotaguard.recovery import recover_interrupted
    from rotaguard.tasks.context import open_store

    database = open_database()
    try:
        return recover_interrupted(database, open_store(database), actor="rotaguard", skip=own_run_id)
    finally:
        database.dispose()
