"""The append-only, hash-chained audit log: editing or removing any event breaks the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from rotaguard.db.engine import AUDITED
from rotaguard.db.tables import AuditEventRow, utcnow

GENESIS_HASH = "0" * 64
# PostgreSQL advisory lock (transaction scope) held from reading the chain's tail to the commit:
# two writers that read the same tail would both extend it, and the unique index would refuse the
# second one's whole transaction. SQLite needs none: its writers run one at a time (BEGIN IMMEDIATE).
AUDIT_CHAIN_LOCK_KEY = 0x526F7461_41756474  # "RotaAudt"


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(*, prev_hash: str, occurred_at: datetime, actor: str, action: str, subject: str, details: dict) -> str:
    payload = _canonical(
        {
            "prev": prev_hash,
            "at": occurred_at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_bad_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class AuditHead:
    """The end of the chain at one moment: the last event's id and hash, and how many events."""

    event_id: int | None  # None: no events yet
    hash: str
    events: int

    def as_dict(self) -> dict:
        return {"event_id": self.event_id, "hash": self.hash, "events": self.events}


def audit_head(connection: Connection | Session) -> AuditHead:
    """The head of the chain as ``connection`` (or a session) sees it, read in one statement."""
    count = select(func.count()).select_from(AuditEventRow).scalar_subquery()
    last = connection.execute(
        select(AuditEventRow.id, AuditEventRow.hash, count).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    if last is None:
        return AuditHead(None, GENESIS_HASH, 0)
    return AuditHead(last[0], last[1], last[2])


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _tail_hash(self) -> str:
        last = self.session.scalars(select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(1)).first()
        return last.hash if last else GENESIS_HASH

    def append(self, *, actor: str, action: str, subject: str = "", details: dict | None = None) -> AuditEventRow:
        """Add one event at the end of the chain (in the caller's transaction)."""
        details = json.loads(_canonical(details or {}))
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK_KEY})
        occurred_at = utcnow()
        prev_hash = self._tail_hash()
        row = AuditEventRow(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            subject=subject,
            details=details,
            prev_hash=prev_hash,
            hash=event_hash(
                prev_hash=prev_hash,
                occurred_at=occurred_at,
                actor=actor,
                action=action,
                subject=subject,
                details=details,
            ),
        )
        self.session.add(row)
        self.session.flush()
        # Its commit moves the audit anchor (Database.write).
        self.session.info[AUDITED] = True
        return row

    def events(self, *, limit: int | None = None) -> list[AuditEventRow]:
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def head(self) -> AuditHead:
        return audit_head(self.session)

    def verify(self) -> ChainCheck:
        prev_hash = GENESIS_HASH
        count = 0
        for row in self.session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)):
            count += 1
            if row.prev_hash != prev_hash:
                return ChainCheck(False, count, row.id, f"event {row.id} does not follow the event before it")
            expected = event_hash(
                prev_hash=row.prev_hash,
                occurred_at=row.occurred_at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                details=row.details,
            )
            if row.hash != expected:
                return ChainCheck(False, count, row.id, f"event {row.id} was altered after it was written")
            prev_hash = row.hash
        return ChainCheck(True, count)


# ---------------------------------------------------------------------------- the append-only triggers

# What migration 0003 creates: the triggers by name, each with a text its body must hold (it refuses).
SQLITE_TRIGGERS = {"audit_events_no_update": "RAISE(ABORT", "audit_events_no_delete": "RAISE(ABORT"}
POSTGRES_TRIGGERS = ("audit_events_no_update_delete", "audit_events_no_truncate")
POSTGRES_TRIGGER_FUNCTION = "audit_events_append_only"


def append_only_problems(connection: Connection | Session) -> list[str]:
    """What keeps ``audit_events`` from being append-only now: a trigger of migration 0003 missing,
    disabled or no longer refusing, or (PostgreSQL) replica mode by default, in which ordinary
    triggers never fire. Empty when the triggers are in force. Each problem is one short phrase."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name == "sqlite":
        found: dict[str, str | None] = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")
            ).all()
        )
        problems = []
        for name, refusal in SQLITE_TRIGGERS.items():
            if name not in found:
                problems.append(f"trigger {name} is missing")
            elif refusal not in (found[name] or "").upper().replace(" ", ""):
                problems.append(f"trigger {name} no longer refuses")
        return problems
    if bind.dialect.name != "postgresql":
        return [f"no append-only triggers are known for {bind.dialect.name}"]
    rows = {
        name: (enabled, source)
        for name, enabled, source in connection.execute(
            text(
                "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgrelid = to_regclass('audit_events') AND NOT t.tgisinternal"
            )
        ).all()
    }
    problems = []
    for name in POSTGRES_TRIGGERS:
        if name not in rows:
            problems.append(f"trigger {name} is missing")
            continue
        enabled, source = rows[name]
        if enabled == "D":
            problems.append(f"trigger {name} is disabled")
        elif "RAISE EXCEPTION" not in (source or "").upper():
            problems.append(f"trigger {name}'s function no longer refuses")
        elif enabled == "R":
            problems.append(f"trigger {name} fires only in replica mode")
    if connection.execute(text("SELECT current_setting('session_replication_role')")).scalar() == "replica":
        problems.append("session_replication_role is replica by default here, so the triggers do not fire")
    return problems
