"""Swaps end to end over the database: request, answer, approve, execute, roll back.

Every step writes in one database transaction; execution and rollback also hold the
schedule-writes lock, so each judges the schedule every earlier write left and no two interleave.
A request and an answer judge in a read transaction first and then write briefly (SQLite admits
one writer at a time); execution judges again under the lock, so nothing moves on a stale verdict.
On PostgreSQL, swap writes take turns where they extend the audit chain (an advisory lock).
"""

from __future__ import annotations

import builtins
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from rotaguard.authorization import Actor, NotAuthorized, resolve_actor
from rotaguard.db import AssignmentRepository, AuditLog, Database, ProgramRepository
from rotaguard.db.locks import SCHEDULE_WRITES, LockLease
from rotaguard.db.swaps import SwapRepository, database_now
from rotaguard.domain import Assignment, Program, Schedule, days_between
from rotaguard.domain.swaps import OPEN_STATUSES, DateRange, Move, SwapKind, SwapRequest, SwapStatus
from rotaguard.errors import RotaGuardError
from rotaguard.swaps.authorization import Action, authorize, unknown_actor
from rotaguard.swaps.candidates import Candidate, rank_candidates
from rotaguard.swaps.tentative import SwapConflict, Verdict, apply_moves, judge, moves_for, window

if TYPE_CHECKING:
    from rotaguard.notify import Notice

ROLLBACK_WINDOW = timedelta(hours=24)
DEFAULT_ANSWER_WITHIN = timedelta(hours=48)
LOCK_WAIT_SECONDS = 120
# PostgreSQL advisory lock (transaction scope) that swap writes take just before they write and
# audit: the hash chain's tail is read, then extended, so two writers must not interleave there,
# and a request's "no other open swap covers these duties" check must hold until it commits.
# SQLite needs none: its writers already run one at a time (BEGIN IMMEDIATE).
SWAP_WRITES_LOCK_KEY = 0x526F7461_53776170  # "RotaSwap"
# Writers outside the swaps (a generation, a backup) extend the audit chain without that lock;
# when one does so at the same instant, the swap's transaction is rolled back and run again.
CHAIN_COLLISION_ATTEMPTS = 5
AUDIT_CHAIN_CONSTRAINTS = ("uq_audit_events_prev_hash", "uq_audit_events_hash")
BUSY = "the database is busy: SQLite lets one writer in at a time and this one waited its turn in vain; nothing was changed; try again"

Clock = Callable[[Session], datetime]


class SwapRefused(RotaGuardError):
    """The swap cannot go ahead, for the reason given; nothing was changed."""


class SwapDenied(SwapRefused, NotAuthorized):
    """The actor may not do this (the denial is audited): refused like any swap, and reported like
    any other authorization denial (exit code 77)."""

    def __init__(self, reason: str, *, actor_id: str, action: str, subject: str) -> None:
        super().__init__(reason)
        self.reason, self.actor_id, self.action, self.subject = reason, actor_id, action, subject


def _serialize_swap_writes(session: Session) -> None:
    """Wait for every other swap write to commit, then hold them off until this one does.

    Taken after the transaction's row locks and right before its writes, never earlier, so that
    no swap write waits for a row lock while holding it (no deadlock), and the heavy judging of
    concurrent requests still runs side by side."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWAP_WRITES_LOCK_KEY})


def _audit_chain_collision(error: IntegrityError) -> bool:
    """True when the unique index refused an audit event because another transaction extended the
    chain from the same tail first (nothing else was wrong: running again succeeds)."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint is not None:
        return constraint in AUDIT_CHAIN_CONSTRAINTS
    return "audit_events.prev_hash" in str(error.orig) or "audit_events.hash" in str(error.orig)


def _sqlite_busy(error: OperationalError) -> bool:
    """SQLite's busy timeout ran out while other writers held the database."""
    return "database is locked" in str(error.orig) or "database is busy" in str(error.orig)


def _one_unit_of_work(method):
    """Run the whole (rolled back) unit of work again when the audit chain moved under it; a
    write that could not get into a busy SQLite database is refused with the reason."""

    @functools.wraps(method)
    def wrapper(self: SwapService, *args, **kwargs):
        for attempt in range(1, CHAIN_COLLISION_ATTEMPTS + 1):
            try:
                return method(self, *args, **kwargs)
            except IntegrityError as error:
                if attempt == CHAIN_COLLISION_ATTEMPTS or not _audit_chain_collision(error):
                    raise
            except OperationalError as error:
                if not _sqlite_busy(error):
                    raise
                raise SwapRefused(BUSY) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    return wrapper


def _denials_audited(method):
    """Record every denial, after the refused work's own transaction has ended."""

    @functools.wraps(method)
    def wrapper(self: SwapService, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SwapDenied as denied:
            self._audit_denial(denied)
            raise

    return wrapper


def _taker(request: SwapRequest, actor: Actor | None, actor_id: str, for_person: str | None) -> str | None:
    """Who takes the duties when ``actor_id`` answers: person B, or for an open request the one
    answering (staff answer for ``for_person``)."""
    if request.person_b is not None:
        return request.person_b
    return for_person if actor is not None and actor.is_staff else actor_id


@dataclass(frozen=True)
class SwapResult:
    request: SwapRequest
    message: str
    changed: bool = True
    candidates: tuple[Candidate, ...] = ()
    moves: tuple[Move, ...] = ()
    notify: tuple[str | None, ...] = field(default=())  # people whose e-mail should hear about it (None: no B yet)

    def as_dict(self) -> dict:
        return {
            "ok": True,
            "id": self.request.id,
            "status": self.request.status.value,
            "message": self.message,
            "changed": self.changed,
            "request": request_dict(self.request),
            "candidates": [c.as_dict() for c in self.candidates],
            "moves": [_move_dict(m) for m in self.moves],
        }


def request_dict(request: SwapRequest) -> dict:
    data = request.model_dump(mode="json", exclude={"details"})
    data["verdict"] = request.details.get("verdict")
    return data


def _move_dict(move: Move) -> dict:
    a = move.before
    return {
        "date": a.date.isoformat(),
        "slot": a.slot,
        "rotation_id": a.rotation_id,
        "from": a.person_id,
        "to": move.after.person_id,
    }


def _moves_from(details: dict) -> tuple[Move, ...]:
    return tuple(Move.model_validate(m) for m in details.get("moves", []))


class SwapService:
    """One database; ``clock`` reads "now" (the database's clock unless a test pins it)."""

    def __init__(
        self, database: Database, *, clock: Clock | None = None, lock_wait_seconds: float = LOCK_WAIT_SECONDS
    ) -> None:
        self.database = database
        self.clock = clock or database_now
        self.lock_wait_seconds = lock_wait_seconds

    @_one_unit_of_work
    def _audit_denial(self, denied: SwapDenied) -> None:
        with self.database.write() as session:
            _serialize_swap_writes(session)
            AuditLog(session).append(
                actor=denied.actor_id,
                action="swap.denied",
                subject=denied.subject,
                details={"action": denied.action, "reason": denied.reason},
            )

    # -- reading -----------------------------------------------------------------------------

    def _program(self, session: Session) -> Program:
        program = ProgramRepository(session).load()
        if program is None:
            raise SwapRefused("no program has been imported yet")
        return program

    def _schedule_around(self, session: Session, program: Program, request: SwapRequest) -> Schedule:
        first, last = window(request, program.rules.averaging_window_days)
        return AssignmentRepository(session).schedule(start=first, end=last)

    def _require(
        self, actor: Actor | None, actor_id: str, action: Action, request: SwapRequest, *, taker: str | None = None
    ):
        decision = authorize(actor, action, request, taker=taker, actor_id=actor_id)
        if not decision.allowed:
            raise SwapDenied(decision.reason, actor_id=actor_id, action=action.value, subject=request.id)
        return decision

    @_denials_audited
    def get(self, *, swap_id: str, actor_id: str) -> SwapRequest:
        with self.database.read() as session:
            program = self._program(session)
            request = self._load(session, swap_id)
            # An open request is offered to whoever may take it: they may read it to answer.
            taker = actor_id if request.person_b is None else None
            self._require(resolve_actor(program, actor_id), actor_id, Action.VIEW, request, taker=taker)
            return request

    # Below this method, ``list`` in the class body names it: annotations there say builtins.list.
    @_denials_audited
    def require(self, *, swap_id: str, actor_id: str, action: Action, for_person: str | None = None) -> None:
        """Refuse (audited) unless the swap table lets ``actor_id`` do ``action`` to the request as
        it stands; for whoever starts a flow or answers a paused one, which would check only later
        (``for_person``: the person taking an open request that staff accept or decline for)."""
        with self.database.read() as session:
            program = self._program(session)
            request = self._load(session, swap_id)
            actor = resolve_actor(program, actor_id)
            taker = _taker(request, actor, actor_id, for_person) if action in (Action.ACCEPT, Action.DECLINE) else None
            self._require(actor, actor_id, action, request, taker=taker)

    @_denials_audited
    def list(self, *, actor_id: str, status: SwapStatus | None = None) -> list[SwapRequest]:
        """Staff see every request; residents and faculty the ones they are part of."""
        self.expire_overdue()
        with self.database.read() as session:
            program = self._program(session)
            actor = resolve_actor(program, actor_id)
            if actor is None:
                raise SwapDenied(
                    unknown_actor(actor_id, "list swap requests", "a person or staff member of the program"),
                    actor_id=actor_id,
                    action=Action.VIEW.value,
                    subject="",
                )
            statuses = [status] if status else None
            return SwapRepository(session).list(person_id=None if actor.is_staff else actor.id, statuses=statuses)

    @_denials_audited
    def candidates(self, *, swap_id: str, actor_id: str) -> builtins.list[Candidate]:
        with self.database.read() as session:
            program = self._program(session)
            request = self._load(session, swap_id)
            self._require(resolve_actor(program, actor_id), actor_id, Action.VIEW, request)
            return self._rank(session, program, request, self._schedule_around(session, program, request))

    def _rank(
        self, session: Session, program: Program, request: SwapRequest, schedule: Schedule
    ) -> builtins.list[Candidate]:
        return rank_candidates(program, schedule, request, declines=SwapRepository(session).declines_by_person())

    def _load(self, session: Session, swap_id: str, *, for_update: bool = False) -> SwapRequest:
        request = SwapRepository(session).get(swap_id=swap_id, for_update=for_update)
        if request is None:
            raise SwapRefused(f"no swap request {swap_id!r}")
        return request

    # -- requesting and answering ------------------------------------------------------------

    @_denials_audited
    @_one_unit_of_work
    def request(
        self,
        *,
        actor_id: str,
        kind: SwapKind,
        person_a: str,
        range_a: DateRange,
        person_b: str | None = None,
        range_b: DateRange | None = None,
        reason: str = "",
        answer_within: timedelta = DEFAULT_ANSWER_WITHIN,
        flow_run_id: str | None = None,
    ) -> SwapResult:
        """Check and store a request; it waits for person B (or, open, for a ranked candidate).

        Judged in a read transaction, stored in a short write one: SQLite lets one writer in at a
        time, and the compliance engine's work would keep every other writer waiting."""
        with self.database.read() as session:
            program = self._program(session)
            now = self.clock(session)
            try:
                draft = SwapRequest(
                    id=str(uuid.uuid4()),
                    requester_id=actor_id,
                    kind=kind,
                    person_a=person_a,
                    person_b=person_b,
                    range_a=range_a,
                    range_b=range_b,
                    reason=reason,
                    created_at=now,
                    deadline=now + answer_within,
                    flow_run_id=flow_run_id,
                )
            except ValidationError as error:
                raise SwapRefused(error.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")) from None
            self._require(resolve_actor(program, actor_id), actor_id, Action.REQUEST, draft)
            self._check_people(program, draft)
            self._check_future(program, draft, now)
            schedule = self._schedule_around(session, program, draft)
            moves_or_none: tuple[Move, ...] | None = None
            given = [a for a in schedule.assignments if a.person_id == person_a and range_a.covers(a.date)]
            if not given:
                raise SwapRefused(f"{person_a} has no assignments {range_a}")
            self._check_no_open_swap(session, draft)  # the cheap refusal before the judging
            candidates: tuple[Candidate, ...] = ()
            if person_b is not None:
                moves_or_none = self._moves(draft, schedule)
                self._check_absences(program, moves_or_none)
                verdict = judge(program, schedule, moves_or_none, check_n1=False)
                if verdict.rejected:
                    raise SwapRefused(f"swap {person_a} -> {person_b} {verdict.reason()}")
            else:
                candidates = tuple(self._rank(session, program, draft, schedule))
            details = {"candidates": [c.as_dict() for c in candidates]} if person_b is None else {}
        with self.database.write() as session:
            # Checked again while holding the swap-writes lock, so two requests racing for the
            # same duties cannot both see "no open swap" and both be stored.
            _serialize_swap_writes(session)
            self._check_no_open_swap(session, draft)
            self._check_unchanged(session, draft, [m.before for m in moves_or_none] if moves_or_none else given)
            stored = SwapRepository(session).add(request=draft.model_copy(update={"details": details}))
            AuditLog(session).append(
                actor=actor_id, action="swap.request", subject=stored.id, details=request_dict(stored)
            )
        waiting_for = person_b or f"one of {len(candidates)} candidates"
        return SwapResult(
            stored,
            f"swap {stored.id} waits for {waiting_for} until {stored.deadline:%Y-%m-%d %H:%M} UTC",
            candidates=candidates,
            moves=moves_or_none or (),
        )

    def _check_unchanged(self, session: Session, request: SwapRequest, judged: builtins.list[Assignment]) -> None:
        """What would change hands is still what was judged in the read transaction before (an
        execution may have moved some of it since)."""
        spans = [(request.person_a, request.range_a)] + (
            [(request.person_b, request.range_b)] if request.person_b and request.range_b else []
        )
        repository = AssignmentRepository(session)
        held = {
            a
            for person, span in spans
            for a in repository.schedule(start=span.start, end=span.end).assignments
            if a.person_id == person
        }
        if held != set(judged):
            raise SwapRefused(
                f"{request.person_a}'s assignments {request.range_a} changed while the swap was being checked; nothing was stored; try again"
            )

    def _check_people(self, program: Program, request: SwapRequest) -> None:
        for person_id in filter(None, (request.person_a, request.person_b)):
            person = program.people_by_id.get(person_id)
            if person is None:
                raise SwapRefused(f"no person {person_id!r} in the program")
            if not person.active:
                raise SwapRefused(f"{person_id} is not active")

    def _check_future(self, program: Program, request: SwapRequest, now: datetime) -> None:
        today = now.astimezone(program.zone).date()
        for span in filter(None, (request.range_a, request.range_b)):
            if span.start <= today:
                raise SwapRefused(f"range {span} is not in the future (today is {today} in {program.timezone})")

    def _check_no_open_swap(self, session: Session, request: SwapRequest) -> None:
        mine = _given_days(request)
        for other in SwapRepository(session).list(statuses=OPEN_STATUSES, limit=10_000):
            if other.id != request.id and mine & _given_days(other):
                raise SwapRefused(f"swap {other.id} ({other.status.value}) already covers some of these assignments")

    def _check_absences(self, program: Program, moves: tuple[Move, ...]) -> None:
        for move in moves:
            absence = program.absent(move.after.person_id, move.after.date)
            if absence is not None:
                raise SwapRefused(f"{move.after.person_id} is absent on {move.after.date} ({absence.kind})")

    def _moves(self, request: SwapRequest, schedule: Schedule, *, taker: str | None = None) -> tuple[Move, ...]:
        try:
            moves = moves_for(request, schedule, person_b=taker)
            apply_moves(schedule, moves)
        except SwapConflict as conflict:
            raise SwapRefused(str(conflict)) from None
        return moves

    @_one_unit_of_work
    def expire_overdue(self) -> int:
        """Pending requests past their deadline become ``expired`` (audited)."""
        with self.database.write() as session:
            now = self.clock(session)
            repository = SwapRepository(session)
            seen = [r for r in repository.list(statuses=[SwapStatus.PENDING], limit=10_000) if r.expired_at(now)]
            # Locked and read again: a concurrent answer, or another caller expiring the same
            # rows, may have changed them since the list (row locks first, as everywhere).
            locked = (repository.get(swap_id=r.id, for_update=True) for r in seen)
            overdue = [r for r in locked if r is not None and r.status is SwapStatus.PENDING]
            if overdue:
                _serialize_swap_writes(session)
            for request in overdue:
                assert request.deadline is not None  # expired_at(now) held for it
                repository.update(swap_id=request.id, status=SwapStatus.EXPIRED, decided_at=now)
                AuditLog(session).append(
                    actor="rotaguard",
                    action="swap.expire",
                    subject=request.id,
                    details={"deadline": request.deadline.isoformat()},
                )
            return len(overdue)

    @_denials_audited
    @_one_unit_of_work
    def answer(
        self, *, swap_id: str, actor_id: str, accept: bool, for_person: str | None = None, comment: str = ""
    ) -> SwapResult:
        """Person B (or staff for B) accepts or declines; an acceptance is validated at once
        (judged in a read transaction, recorded in a short write one, as ``request``)."""
        self.expire_overdue()
        with self.database.read() as session:
            program = self._program(session)
            request, taker, answer = self._answerable(
                session,
                program,
                swap_id=swap_id,
                actor_id=actor_id,
                accept=accept,
                for_person=for_person,
                comment=comment,
            )
            if accept:
                if request.person_b is None:
                    self._check_people(program, request.model_copy(update={"person_b": taker}))
                proposed = request.model_copy(update={"person_b": taker})
                schedule = self._schedule_around(session, program, proposed)
                moves = self._moves(proposed, schedule)
                self._check_absences(program, moves)
                verdict = judge(program, schedule, moves)
        with self.database.write() as session:
            repository = SwapRepository(session)
            current = self._load(session, swap_id, for_update=True)
            if current.status is not SwapStatus.PENDING or current.person_b != request.person_b:
                raise SwapRefused(f"swap {swap_id} is {current.status.value}, not pending")  # answered meanwhile
            now = self.clock(session)
            _serialize_swap_writes(session)
            if accept:
                self._check_unchanged(session, proposed, [m.before for m in moves])
            if not accept:
                stored = repository.update(
                    swap_id=swap_id, status=SwapStatus.DECLINED, decided_at=now, details={"answer": answer}
                )
                AuditLog(session).append(actor=actor_id, action="swap.decline", subject=swap_id, details=answer)
                return SwapResult(stored, f"swap {swap_id} declined", notify=(request.person_a,))
            status = _status_of(verdict)
            stored = repository.update(
                swap_id=swap_id,
                person_b_id=taker,
                status=status,
                decided_at=now,
                details={
                    "answer": answer,
                    "verdict": verdict.as_dict(),
                    "moves": [m.model_dump(mode="json") for m in moves],
                },
            )
            AuditLog(session).append(actor=actor_id, action="swap.accept", subject=swap_id, details=answer)
            AuditLog(session).append(
                actor="rotaguard",
                action="swap.validate",
                subject=swap_id,
                details={"status": status.value, **verdict.as_dict()},
            )
        return SwapResult(
            stored,
            f"swap {swap_id} accepted: {status.value} ({verdict.reason()})",
            moves=moves,
            notify=(request.person_a, taker),
        )

    def _answerable(
        self,
        session: Session,
        program: Program,
        *,
        swap_id: str,
        actor_id: str,
        accept: bool,
        for_person: str | None,
        comment: str,
    ) -> tuple[SwapRequest, str, dict]:
        """The pending request, who takes it, and the answer to record; refused (or denied) otherwise."""
        request = self._load(session, swap_id)
        actor = resolve_actor(program, actor_id)
        taker = _taker(request, actor, actor_id, for_person)
        action = Action.ACCEPT if accept else Action.DECLINE
        decision = self._require(actor, actor_id, action, request, taker=taker)
        if request.status is not SwapStatus.PENDING:
            raise SwapRefused(f"swap {swap_id} is {request.status.value}, not pending")
        if taker is None:
            raise SwapRefused("an open request is accepted by a person: give --for PERSON when acting for one")
        if not accept and request.person_b is None:
            raise SwapRefused("an open request has nobody to decline it: it expires at its deadline")
        return request, taker, {"answered_by": actor_id, "on_behalf_of": decision.on_behalf_of, "comment": comment}

    @_denials_audited
    @_one_unit_of_work
    def decide(self, *, swap_id: str, actor_id: str, approve: bool, comment: str = "") -> SwapResult:
        """A coordinator or admin approves or rejects a swap that needs approval."""
        with self.database.write() as session:
            program = self._program(session)
            request = self._load(session, swap_id, for_update=True)
            self._require(resolve_actor(program, actor_id), actor_id, Action.APPROVE, request)
            if request.status is not SwapStatus.NEEDS_APPROVAL:
                raise SwapRefused(f"swap {swap_id} is {request.status.value}, not needs_approval")
            status = SwapStatus.APPROVED if approve else SwapStatus.REJECTED
            decision = {"by": actor_id, "approved": approve, "comment": comment}
            _serialize_swap_writes(session)
            stored = SwapRepository(session).update(swap_id=swap_id, status=status, details={"decision": decision})
            AuditLog(session).append(
                actor=actor_id, action="swap.approve" if approve else "swap.reject", subject=swap_id, details=decision
            )
        return SwapResult(
            stored, f"swap {swap_id} {status.value} by {actor_id}", notify=(request.person_a, request.person_b)
        )

    # -- executing and rolling back ----------------------------------------------------------

    def _write_under_lock(self, step: str, swap_id: str, work: Callable[[Session], SwapResult]) -> SwapResult:
        """``work`` in one transaction while holding the schedule-writes lock."""
        holder = f"swap-{step}-{swap_id}-{uuid.uuid4().hex[:8]}"
        lease = LockLease(
            self.database, name=SCHEDULE_WRITES, holder=holder, wait_seconds=self.lock_wait_seconds
        ).__enter__()
        try:
            if not lease.held:
                raise SwapRefused("locked: another schedule write is in progress; try again")
            return self._locked_unit(swap_id, work)
        finally:
            try:
                lease.__exit__(None, None, None)
            except OperationalError as error:
                # The work is committed (or refused) already: a release that cannot get into a
                # busy SQLite database must not turn that into a failure; the lease lapses by itself.
                if not _sqlite_busy(error):
                    raise

    def _locked_unit(self, swap_id: str, work: Callable[[Session], SwapResult]) -> SwapResult:
        for attempt in range(1, CHAIN_COLLISION_ATTEMPTS + 1):
            try:
                with self.database.write() as session:
                    return work(session)
            except IntegrityError as error:
                if _audit_chain_collision(error) and attempt < CHAIN_COLLISION_ATTEMPTS:
                    continue  # another writer extended the audit chain meanwhile: all rolled back, run again
                raise SwapRefused(f"swap {swap_id}: a slot it fills was taken meanwhile; nothing was moved") from None
            except OperationalError as error:
                if not _sqlite_busy(error):
                    raise
                raise SwapRefused(BUSY) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    @_denials_audited
    def execute(self, *, swap_id: str, actor_id: str) -> SwapResult:
        """Move the assignments, in one transaction under the schedule-writes lock; idempotent."""
        return self._write_under_lock("execute", swap_id, lambda session: self._execute(session, swap_id, actor_id))

    def _execute(self, session: Session, swap_id: str, actor_id: str) -> SwapResult:
        program = self._program(session)
        request = self._load(session, swap_id, for_update=True)
        self._require(resolve_actor(program, actor_id), actor_id, Action.EXECUTE, request)
        if request.status is SwapStatus.EXECUTED:
            return SwapResult(
                request,
                f"swap {swap_id} was already executed at {request.executed_at:%Y-%m-%d %H:%M:%S} UTC",
                changed=False,
                moves=_moves_from(request.details),
            )
        if request.status is not SwapStatus.APPROVED:
            raise SwapRefused(f"swap {swap_id} is {request.status.value}: only an approved swap is executed")
        repository = SwapRepository(session)
        # Without a B (never so once approved) there is nothing of B's to lock.
        spans = [(request.person_a, request.range_a)] + (
            [(request.person_b, request.range_b)] if request.person_b is not None and request.range_b else []
        )
        repository.lock_assignments(people_ranges=spans)
        schedule = self._schedule_around(session, program, request)
        recorded = _moves_from(request.details)
        try:
            current = moves_for(request, schedule)
        except SwapConflict:
            current = ()
        if set(current) != set(recorded):
            raise SwapRefused(
                f"swap {swap_id} not executed: the assignments changed since it was validated; request it again"
            )
        try:
            verdict = judge(program, schedule, current)
        except SwapConflict as conflict:
            raise SwapRefused(f"swap {swap_id} not executed: {conflict}") from None
        if verdict.rejected or (verdict.needs_approval and "decision" not in request.details):
            raise SwapRefused(f"swap {swap_id} not executed: it no longer passes: {verdict.reason()}")
        _serialize_swap_writes(session)
        repository.move(before=[m.before for m in current], after=[m.after for m in current])
        now = self.clock(session)
        stored = repository.update(
            swap_id=swap_id, status=SwapStatus.EXECUTED, executed_at=now, details={"executed_by": actor_id}
        )
        AuditLog(session).append(
            actor=actor_id,
            action="swap.execute",
            subject=swap_id,
            details={"moves": [_move_dict(m) for m in current], "executed_at": now.isoformat()},
        )
        return SwapResult(
            stored,
            f"swap {swap_id} executed: {len(current)} assignments moved",
            moves=current,
            notify=(request.person_a, request.person_b),
        )

    @_denials_audited
    def rollback(self, *, swap_id: str, actor_id: str) -> SwapResult:
        """Put the assignments back within 24 hours of execution, if nobody changed them since."""
        return self._write_under_lock("rollback", swap_id, lambda session: self._rollback(session, swap_id, actor_id))

    def _rollback(self, session: Session, swap_id: str, actor_id: str) -> SwapResult:
        program = self._program(session)
        request = self._load(session, swap_id, for_update=True)
        self._require(resolve_actor(program, actor_id), actor_id, Action.ROLLBACK, request)
        if request.status is SwapStatus.ROLLED_BACK:
            return SwapResult(request, f"swap {swap_id} was already rolled back: nothing to do", changed=False)
        if request.status is not SwapStatus.EXECUTED:
            raise SwapRefused(f"swap {swap_id} is {request.status.value}: only an executed swap is rolled back")
        now = self.clock(session)
        assert request.executed_at is not None  # set with the executed status
        closes = request.executed_at + ROLLBACK_WINDOW
        if now >= closes:
            raise SwapRefused(
                f"swap {swap_id} can no longer be rolled back: the 24-hour window closed at {closes:%Y-%m-%d %H:%M:%S} UTC"
            )
        moves = _moves_from(request.details)
        back = tuple(Move(before=m.after, after=m.before) for m in moves)
        repository = SwapRepository(session)
        # Without a B (never so once executed) there is nothing of B's to lock.
        spans = ([(request.person_b, request.range_a)] if request.person_b is not None else []) + (
            [(request.person_a, request.range_b)] if request.range_b else []
        )
        repository.lock_assignments(people_ranges=spans)
        schedule = self._schedule_around(session, program, request)
        held = set(schedule.assignments)
        changed = [m.before for m in back if m.before not in held]
        if changed:
            a = changed[0]
            raise SwapRefused(
                f"swap {swap_id} can no longer be rolled back: {a.person_id}'s {a.rotation_id} on {a.date} {a.slot} changed since"
            )
        try:
            verdict = judge(program, schedule, back)
        except SwapConflict as conflict:
            raise SwapRefused(f"swap {swap_id} can no longer be rolled back: {conflict}") from None
        if verdict.rejected:
            raise SwapRefused(f"swap {swap_id} can no longer be rolled back: it {verdict.reason()}")
        _serialize_swap_writes(session)
        repository.move(before=[m.before for m in back], after=[m.after for m in back])
        stored = repository.update(
            swap_id=swap_id, status=SwapStatus.ROLLED_BACK, rolled_back_at=now, details={"rolled_back_by": actor_id}
        )
        AuditLog(session).append(
            actor=actor_id,
            action="swap.rollback",
            subject=swap_id,
            details={"moves": [_move_dict(m) for m in back], "at": now.isoformat()},
        )
        return SwapResult(
            stored,
            f"swap {swap_id} rolled back: {len(back)} assignments returned",
            moves=back,
            notify=(request.person_a, request.person_b),
        )


def _status_of(verdict: Verdict) -> SwapStatus:
    if verdict.rejected:
        return SwapStatus.REJECTED
    return SwapStatus.NEEDS_APPROVAL if verdict.needs_approval else SwapStatus.APPROVED


def _given_days(request: SwapRequest) -> set[tuple[str, date]]:
    """(person, day) pairs whose assignments the request would move."""
    return {
        (person, day)
        for person, span in ((request.person_a, request.range_a), (request.person_b, request.range_b))
        if person is not None and span is not None
        for day in days_between(span.start, span.end)
    }


def swap_notice(program: Program, outcome: dict) -> Notice:
    """The e-mail both people get about what just happened to their swap (``SwapResult.as_dict``
    plus ``notify``, the ids of the people to tell)."""
    from rotaguard.notify import Notice

    people = program.people_by_id
    addresses = tuple(sorted({email for i in outcome["notify"] if i in people and (email := people[i].email)}))
    lines = [outcome["message"], ""]
    lines += [f"  {m['date']} {m['slot']} {m['rotation_id']}: {m['from']} -> {m['to']}" for m in outcome["moves"]]
    if outcome["status"] == SwapStatus.EXECUTED.value:
        lines += [
            "",
            f"The requester or an administrator can roll it back within 24 hours: rotaguard swap rollback {outcome['id']}",
        ]
    return Notice(
        to=addresses, subject=f"RotaGuard swap {outcome['id']}: {outcome['status']}", body="\n".join(lines) + "\n"
    )


__all__ = ["SwapDenied", "SwapRefused", "SwapResult", "SwapService", "swap_notice"]
