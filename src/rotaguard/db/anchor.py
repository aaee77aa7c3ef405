"""The audit anchor: the head of the audit chain, kept outside the database.

Triggers stop the application from changing or removing audit events, and the hash chain
shows any event altered in place. Neither catches someone who can switch the triggers off
(a database superuser) and removes the newest events: what is left is still a consistent
chain. So the head of the chain (the last event's id and hash, and the event count) is kept in
``audit-anchor.json`` beside the backups, and ``rotaguard audit verify`` checks that the chain
still reaches that head. Every backup records its snapshot's head there (and in its manifest),
and every audited write moves it once its transaction has committed (``Database.write`` with an
``audit_anchor_dir``, :func:`anchor_after_write`): deleting the newest events is visible at once,
not only once it falls behind a backup (issue 26, item 6).

The anchor only moves forward: a backup never replaces it with a shorter chain, nor with one
that no longer contains the anchored event, so a truncated log stays visible.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rotaguard.db.audit import AuditHead
from rotaguard.db.private_files import PRIVATE_DIRECTORY_MODE, write_private_atomically
from rotaguard.db.tables import AuditEventRow
from rotaguard.errors import RotaGuardError

ANCHOR_FILE = "audit-anchor.json"
ANCHOR_FORMAT = "rotaguard-audit-anchor/1"


class AnchorError(RotaGuardError):
    """The anchor file exists but cannot be read or written."""


class AnchorUnreadable(AnchorError):
    """The anchor cannot be read at all (its directory is unavailable): nothing is known of it."""


@dataclass(frozen=True)
class AuditAnchor:
    head: AuditHead
    backup_id: str
    written_at: datetime
    database: str = ""

    def as_dict(self) -> dict:
        return {
            "format": ANCHOR_FORMAT,
            **self.head.as_dict(),
            "backup_id": self.backup_id,
            "written_at": self.written_at.isoformat(),
            "database": self.database,
        }

    @classmethod
    def from_dict(cls, data: dict) -> AuditAnchor:
        if data.get("format") != ANCHOR_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {ANCHOR_FORMAT}")
        event_id, digest, events = data["event_id"], data["hash"], data["events"]
        if event_id is not None and (not isinstance(event_id, int) or event_id < 1):
            raise ValueError(f"event_id {event_id!r} is not a positive integer")
        if not isinstance(events, int) or events < 0 or (events == 0) != (event_id is None):
            raise ValueError(f"events {events!r} does not fit event_id {event_id!r}")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ValueError("hash is not a SHA-256 hex digest")
        return cls(
            head=AuditHead(event_id, digest, events),
            backup_id=str(data["backup_id"]),
            written_at=datetime.fromisoformat(data["written_at"]),
            database=str(data.get("database", "")),
        )

    def describe(self) -> str:
        by = f" by backup {self.backup_id}" if self.backup_id else " after an audited write"
        return f"the audit anchor written{by} at {self.written_at.isoformat()}"


def anchor_path(directory: Path) -> Path:
    return directory / ANCHOR_FILE


def read_anchor(directory: Path) -> AuditAnchor | None:
    """The anchor in ``directory``; None when there is none yet; AnchorError when it is damaged."""
    path = anchor_path(directory)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorUnreadable(f"cannot read the audit anchor {path}: {exc.strerror or exc}") from None
    try:
        return AuditAnchor.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorError(
            f"the audit anchor {path} is damaged ({exc}): the end of the audit log cannot be checked"
        ) from None


# ---------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    reason: str = ""
    first_bad_id: int | None = None
    missing_ids: tuple[int, ...] = field(default=())


def _ids(first: int, last: int) -> str:
    return f"event {first} is" if first == last else f"events {first}-{last} are"


def compare_to_anchor(
    anchor: AuditAnchor,
    *,
    hash_at_anchor: str | None,
    last_id_up_to_anchor: int | None,
    events_up_to_anchor: int,
    events: int,
) -> AnchorCheck:
    """Does the chain, as these four facts describe it, still reach the anchored head?

    ``hash_at_anchor``: the hash of the event with the anchored id (None: no such event);
    ``last_id_up_to_anchor`` and ``events_up_to_anchor``: the highest id and the number of
    events with an id up to the anchored one; ``events``: all events now.
    """
    head = anchor.head
    if head.event_id is None:
        return AnchorCheck(True)
    if hash_at_anchor is None:
        first_missing = (last_id_up_to_anchor or 0) + 1
        missing = tuple(range(first_missing, head.event_id + 1))
        ends = f"event {last_id_up_to_anchor}" if last_id_up_to_anchor is not None else "nothing"
        return AnchorCheck(
            False,
            f"audit log truncated: {_ids(first_missing, head.event_id)} missing; {anchor.describe()} records "
            f"{head.events} events ending at event {head.event_id}, the log now ends at {ends} "
            f"({events_up_to_anchor} of those events left)",
            first_bad_id=first_missing,
            missing_ids=missing,
        )
    if hash_at_anchor != head.hash:
        return AnchorCheck(
            False,
            f"audit log rewritten: event {head.event_id} has hash {hash_at_anchor[:12]}..., "
            f"{anchor.describe()} records {head.hash[:12]}...",
            first_bad_id=head.event_id,
        )
    if events_up_to_anchor != head.events or events < head.events:
        return AnchorCheck(
            False,
            f"audit log changed: {events_up_to_anchor} events up to event {head.event_id} ({events} in all), "
            f"{anchor.describe()} records {head.events}",
            first_bad_id=head.event_id,
        )
    return AnchorCheck(True)


def check_anchor(session: Session, anchor: AuditAnchor) -> AnchorCheck:
    """Read the four facts ``compare_to_anchor`` needs from the database, in one statement."""
    head_id = anchor.head.event_id
    if head_id is None:
        return AnchorCheck(True)
    up_to = AuditEventRow.id <= head_id
    row = session.execute(
        select(
            select(AuditEventRow.hash).where(AuditEventRow.id == head_id).scalar_subquery(),
            select(func.max(AuditEventRow.id)).where(up_to).scalar_subquery(),
            select(func.count()).select_from(AuditEventRow).where(up_to).scalar_subquery(),
            select(func.count()).select_from(AuditEventRow).scalar_subquery(),
        )
    ).one()
    return compare_to_anchor(
        anchor, hash_at_anchor=row[0], last_id_up_to_anchor=row[1], events_up_to_anchor=row[2], events=row[3]
    )


# ---------------------------------------------------------------------------- writing


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One anchor writer at a time per directory (two backups at once cannot move it back)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def advance_anchor(
    directory: Path, candidate: AuditAnchor, *, confirm: Callable[[AuditAnchor], AnchorCheck]
) -> tuple[AuditAnchor | None, bool]:
    """Write ``candidate`` as the anchor when it moves it forward; return the anchor in force and
    whether it moved.

    It moves only when there is no anchor yet, or the chain still reaches the current anchor
    (``confirm``) and ``candidate`` holds more events: never backwards, and never past a
    truncated or rewritten log, which would hide it. A damaged anchor file is left as it is
    (None is returned): `audit verify` reports it, and only a person removes it.
    """
    directory.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
    try:
        with _locked(directory):
            try:
                current = read_anchor(directory)
            except AnchorError:
                return None, False
            if current is not None:
                if candidate.head.events <= current.head.events or (candidate.head.event_id or 0) < (
                    current.head.event_id or 0
                ):
                    return current, False
                if not confirm(current).ok:
                    return current, False
            write_private_atomically(anchor_path(directory), json.dumps(candidate.as_dict(), indent=2) + "\n")
            return candidate, True
    except OSError as exc:
        raise AnchorError(f"writing the audit anchor in {directory} failed: {exc.strerror or exc}") from None


def anchor_after_write(database, directory: Path) -> None:
    """Move the anchor in ``directory`` up to the head of ``database``'s chain, after a write that
    appended events has committed. Never raises: the write is done and must not look failed, and a
    stale anchor only shows less (a damaged or unwritable anchor is `audit verify`'s to report)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from rotaguard.db.audit import audit_head
    from rotaguard.db.tables import utcnow

    try:
        with database.read() as session:
            head = audit_head(session)
        if head.event_id is None:
            return
        name = make_url(database.url).database or ""
        where = f"{database.kind}:{Path(name).name if database.kind == 'sqlite' else name}"
        candidate = AuditAnchor(head=head, backup_id="", written_at=utcnow(), database=where)

        def confirm(anchor: AuditAnchor) -> AnchorCheck:
            with database.read() as session:
                return check_anchor(session, anchor)

        advance_anchor(directory, candidate, confirm=confirm)
    except (AnchorError, OSError, SQLAlchemyError) as error:
        logging.getLogger(__name__).warning(
            "the audit anchor in %s was not moved after a write: %s", directory, str(error).splitlines()[0]
        )
