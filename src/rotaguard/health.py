"""Health checks shared by ``rotaguard health`` and the flows' health gate.

A check with ``ok=False`` fails the gate (the generation flow refuses to run, the command exits 1).
A check with ``ok=True, warning=True`` is information a person should act on but that does not
block anything: an old or missing backup (generation takes its own first), off-site copies still
pending. Each check carries structured ``facts`` besides its one-line ``detail``;
:func:`report` gathers them into the document ``rotaguard health --json`` prints.

The Prefect API is probed through Prefect's own client, so every way of configuring it counts
(environment, ``prefect config set``, ``.env``), with ``GET /admin/version`` (not ``/health``, which a
server protected by basic auth answers without checking credentials). Prefect is imported only then.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import ssl
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from rotaguard.backups import BackupError, BackupStatus, BackupStore, Manifest, Offsite
from rotaguard.backups.crypto import key_id
from rotaguard.db import Database
from rotaguard.db.migrate import current_revision, head_revision
from rotaguard.db.private_files import PRIVATE_DIRECTORY_MODE
from rotaguard.settings import Settings

# Headroom over the database's own size that another backup needs (dump plus temporary copy).
BACKUP_SPACE_FACTOR = 2
MIN_FREE_BYTES = 64 * 1024 * 1024
# The nightly backup makes one every 24 hours; two hours of slack before it counts as missed.
BACKUP_MAX_AGE = dt.timedelta(hours=26)
PREFECT_API_TIMEOUT_SECONDS = 3.0
NOT_CONFIGURED = "not configured: the CLI runs flows on this home's local Prefect server, started on first use"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # only meaningful when ok: informational, never a gate failure
    facts: dict = field(default_factory=dict, compare=False)

    @property
    def status(self) -> str:
        return "FAIL" if not self.ok else "WARN" if self.warning else "ok"

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "ok": self.ok,
            "warning": self.warning,
            "status": self.status,
            "detail": self.detail,
            "facts": dict(self.facts),
        }


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _display_database_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _database_size(database: Database) -> int | None:
    with database.engine.connect() as connection:
        if database.kind == "postgresql":
            return connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
        if database.kind == "sqlite":
            page_count: int = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
            page_size: int = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
            return page_count * page_size
    return None


def _writable(directory: Path) -> str | None:
    """None when a file can be created in ``directory`` (made if missing); else the reason."""
    try:
        # Private from the start: the store creates it 0700 too, and health may run first.
        directory.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".health-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


# ---------------------------------------------------------------------- backups


def _age_hours(manifest: Manifest, now: dt.datetime) -> float:
    return round((now - manifest.created_at).total_seconds() / 3600, 2)


def _backup_checks(settings: Settings, database: Database, s3_problem: str | None) -> list[Check]:
    """``last_backup`` and ``offsite``: never failures (generation takes its own backup first)."""
    directory = settings.resolved_backup_dir
    try:
        store = BackupStore(
            database=database,
            directory=directory,
            retention_days=settings.backup_retention_days,
            min_keep=settings.backup_min_keep,
        )
        manifests = store.list()
    except (BackupError, OSError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        return [
            Check(
                "last_backup",
                True,
                f"cannot read {directory}: {reason}",
                warning=True,
                facts={"last_verified": None, "counts": None},
            ),
            Check(
                "offsite",
                True,
                f"cannot read {directory}: {reason}",
                warning=True,
                facts={"enabled": bool(settings.s3_bucket)},
            ),
        ]
    now = dt.datetime.now(dt.UTC)
    statuses = Counter(m.status.value for m in manifests)
    counts = {"total": len(manifests), **{status.value: statuses[status.value] for status in BackupStatus}}
    latest = next((m for m in reversed(manifests) if m.status is BackupStatus.VERIFIED), None)
    bad_note = f"; {counts['bad']} bad" if counts["bad"] else ""
    last_verified = None
    if latest is None:
        warning, detail = True, f"no verified backup in {directory}: run `rotaguard backup create`{bad_note}"
    else:
        age = _age_hours(latest, now)
        last_verified = {
            "id": latest.id,
            "label": latest.label,
            "created_at": latest.created_at.isoformat(),
            "age_hours": age,
        }
        stale = now - latest.created_at > BACKUP_MAX_AGE
        warning = stale
        detail = (
            f"{latest.id}, {age:.1f} h old"
            + (f", older than {BACKUP_MAX_AGE.total_seconds() / 3600:.0f} h" if stale else "")
            + bad_note
        )
    newest = manifests[-1] if manifests else None
    if newest is not None and newest.status is BackupStatus.BAD:
        warning = True
        detail += f"; the newest backup {newest.id} failed verification: {newest.failure}"
    checks = [
        Check("last_backup", True, detail, warning=warning, facts={"last_verified": last_verified, "counts": counts})
    ]

    copies = Counter(m.offsite.value for m in manifests)
    offsite_counts = {state.value: copies[state.value] for state in Offsite}
    # What `rotaguard backup offsite sync` would copy: verified backups not yet copied.
    awaiting = sum(1 for m in manifests if m.status is BackupStatus.VERIFIED and m.offsite is not Offsite.COPIED)
    enabled = bool(settings.s3_bucket)
    # The key's fingerprint, never the key: enough for ops to tell which key the copies need.
    encryption_key_id = key_id(key) if (key := settings.backup_key) is not None else None
    facts = {
        "enabled": enabled,
        "bucket": settings.s3_bucket,
        "reachable": (s3_problem is None) if enabled else None,
        "copies": offsite_counts,
        "awaiting_copy": awaiting,
        "encrypted": encryption_key_id is not None,
        "encryption_key_id": encryption_key_id,
    }
    tally = (
        f"{offsite_counts['copied']} copied, {offsite_counts['pending']} pending, {offsite_counts['none']} never copied"
    )
    if not enabled:
        checks.append(
            Check("offsite", True, f"off-site copies are off (ROTAGUARD_S3_BUCKET is not set); {tally}", facts=facts)
        )
    else:
        sealing = f" (new copies encrypted, key {encryption_key_id})" if encryption_key_id else ""
        hint = f"; {awaiting} verified awaiting a copy: run `rotaguard backup offsite sync`" if awaiting else ""
        checks.append(
            Check(
                "offsite",
                True,
                f"bucket {settings.s3_bucket}{sealing}: {tally}{hint}",
                warning=awaiting > 0,
                facts=facts,
            )
        )
    return checks


# ---------------------------------------------------------------------- audit log


def _audit_check(settings: Settings, database: Database) -> Check:
    """``audit``: the chain still reaches the audit anchor (nothing removed from its end) and the
    append-only triggers are in force. Two queries, not the whole chain: ``rotaguard audit verify``
    recomputes every hash. A FAIL: writing on into a log someone cut or unprotected hides it."""
    from rotaguard.db.anchor import AnchorError, AnchorUnreadable, check_anchor, read_anchor
    from rotaguard.db.audit import append_only_problems

    facts: dict = {"anchor": None, "anchor_ok": None, "triggers_ok": None, "trigger_problems": []}
    problems: list[str] = []
    unreadable = None
    try:
        anchor = read_anchor(settings.resolved_backup_dir)
    except AnchorUnreadable as exc:  # the backup directory's trouble, which backup_dir reports
        anchor, unreadable = None, str(exc)
    except AnchorError as exc:
        anchor, facts["anchor_ok"] = None, False
        problems.append(str(exc))
    try:
        with database.read() as session:
            if anchor is not None:
                anchored = check_anchor(session, anchor)
                facts["anchor"], facts["anchor_ok"] = anchor.head.as_dict(), anchored.ok
                if not anchored.ok:
                    problems.append(anchored.reason)
            trigger_problems = append_only_problems(session)
    except SQLAlchemyError as exc:
        return Check("audit", False, f"cannot read the audit log: {_one_line(exc)}", facts=facts)
    facts["triggers_ok"], facts["trigger_problems"] = not trigger_problems, trigger_problems
    if trigger_problems:
        problems.append(f"audit log not protected: {'; '.join(trigger_problems)}")
    if problems:
        return Check("audit", False, "; ".join(problems), facts=facts)
    if unreadable is not None:
        return Check("audit", True, f"append-only triggers in force; {unreadable}", warning=True, facts=facts)
    reaches = (
        f"reaches the audit anchor (event {anchor.head.event_id})" if anchor is not None else "no audit anchor yet"
    )
    return Check("audit", True, f"append-only triggers in force; {reaches}", facts=facts)


# ---------------------------------------------------------------------- Prefect API


def _without_credentials(url: str) -> str:
    """The URL without any user:password part, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _prefect_secrets(url: str, settings) -> list[str]:
    """What a message about the Prefect API must never show: the auth string (and its password
    half), the API key, a password written into the URL. Longest first, so a part never
    unmasks the rest of a whole."""
    auth_string = settings.api.auth_string.get_secret_value() if settings.api.auth_string else ""
    api_key = settings.api.key.get_secret_value() if settings.api.key else ""
    parts = [auth_string.partition(":")[2]]
    try:
        parts.append(urlsplit(url).password or "")
    except ValueError:
        pass
    # A part as short as a few letters would mask ordinary words; whole credentials always go.
    candidates = [auth_string, api_key] + [part for part in parts if len(part) >= 4]
    return sorted({secret for secret in candidates if secret}, key=len, reverse=True)


def _prefect_settings():
    """Prefect's settings as its client reads them in a fresh process: the environment, the active
    profile (``prefect config set``, in ``$PREFECT_HOME/profiles.toml``), ``.env`` and ``prefect.toml``."""
    from prefect.settings import Settings

    return Settings()


def check_prefect_api() -> Check:
    """The Prefect API that Prefect's settings name answers ``GET /admin/version`` through Prefect's
    own client (its auth header, TLS settings and proxies, however they were configured); unset is
    fine (the CLI then uses the home's local Prefect server)."""
    import httpx
    from pydantic import ValidationError

    try:
        settings = _prefect_settings()
    except ValidationError as exc:
        item = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in item["loc"]) or "settings"
        return Check(
            "prefect_api",
            False,
            f"Prefect's settings are invalid: {where}: {item['msg']}",
            facts={"configured": True, "url": None, "reachable": False},
        )
    url = (settings.api.url or "").strip()
    if not url:
        return Check("prefect_api", True, NOT_CONFIGURED, facts={"configured": False, "url": None, "reachable": None})
    shown = _without_credentials(url)
    secrets = _prefect_secrets(url, settings)

    def result(ok: bool, detail: str, **facts) -> Check:
        for secret in secrets:  # never echo a credential, whatever an error message quotes
            detail = detail.replace(secret, "***")
        return Check("prefect_api", ok, detail, facts={"configured": True, "url": shown, "reachable": ok, **facts})

    from prefect.client.orchestration import get_client
    from prefect.context import SettingsContext

    httpx_settings = {"timeout": httpx.Timeout(PREFECT_API_TIMEOUT_SECONDS), "follow_redirects": False}
    try:
        context = SettingsContext.get()
        assert context is not None  # Prefect sets the root settings context when it is imported
        with SettingsContext(profile=context.profile, settings=settings):
            with get_client(sync_client=True, httpx_settings=httpx_settings) as client:
                version = str(client.api_version())
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        hint = ": check PREFECT_API_AUTH_STRING / PREFECT_API_KEY" if code in (401, 403) else ""
        return result(
            False, f"the Prefect API at {shown} answered HTTP {code} to /admin/version{hint}", status_code=code
        )
    except (httpx.HTTPError, httpx.InvalidURL, ssl.SSLError, OSError, ValueError, RuntimeError) as exc:
        return result(False, f"the Prefect API at {shown} is unreachable: {type(exc).__name__}: {_one_line(exc)}")
    return result(True, f"{shown} answers (Prefect {version.strip().strip(chr(34))[:20]})", status_code=200)


# ---------------------------------------------------------------------- all checks


def run_checks(settings: Settings, database: Database) -> list[Check]:
    """Every check; the generation flow's gate fails on any with ``ok=False``."""
    checks: list[Check] = []
    database_size: int | None = None
    database_facts = {"kind": database.kind, "url": _display_database_url(database.url)}
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database_size = _database_size(database)
        checks.append(
            Check(
                "database",
                True,
                f"{database.kind} reachable",
                facts={**database_facts, "reachable": True, "size_bytes": database_size},
            )
        )
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)  # the driver's error, when SQLAlchemy wraps one (DBAPIError)
        reason = str(orig if orig else exc).strip().splitlines()[0]
        checks.append(
            Check(
                "database",
                False,
                f"cannot connect: {reason}",
                facts={**database_facts, "reachable": False, "size_bytes": None},
            )
        )
    head = head_revision()
    if checks[-1].ok:
        current = current_revision(database)
        facts = {"current": current, "head": head}
        if current == head:
            checks.append(Check("schema", True, f"at head {head}", facts=facts))
        elif current is None:
            checks.append(Check("schema", False, "not initialised: run `rotaguard init`", facts=facts))
        else:
            checks.append(
                Check("schema", False, f"at {current}, code expects {head}: run `rotaguard init`", facts=facts)
            )
    else:
        checks.append(
            Check("schema", False, "not checked: database unreachable", facts={"current": None, "head": head})
        )

    schema_ok = checks[-1].ok
    backup_dir = settings.resolved_backup_dir
    if (unwritable := _writable(backup_dir)) is not None:
        checks.append(
            Check("backup_dir", False, f"{backup_dir} is not writable: {unwritable}", facts={"path": str(backup_dir)})
        )
    else:
        free = shutil.disk_usage(backup_dir).free
        needed = max(MIN_FREE_BYTES, BACKUP_SPACE_FACTOR * (database_size or 0))
        ok = free >= needed
        detail = f"{backup_dir}: {free // (1024 * 1024)} MiB free, {needed // (1024 * 1024)} MiB needed"
        checks.append(
            Check("backup_dir", ok, detail, facts={"path": str(backup_dir), "free_bytes": free, "needed_bytes": needed})
        )
    if schema_ok:
        checks.append(_audit_check(settings, database))
    s3_problem: str | None = None
    if settings.s3_bucket:
        from rotaguard.backups.offsite import OffsiteStore

        s3_problem = OffsiteStore(settings).reachable()
        reachable = s3_problem is None
        checks.append(
            Check(
                "s3",
                reachable,
                f"bucket {settings.s3_bucket} " + ("reachable" if reachable else f"unreachable: {s3_problem}"),
                facts={"bucket": settings.s3_bucket, "reachable": reachable},
            )
        )
    checks.extend(_backup_checks(settings, database, s3_problem))
    checks.append(check_prefect_api())
    return checks


def report(checks: list[Check]) -> dict:
    """The document ``rotaguard health --json`` prints: the checks, and each area's facts by name."""
    by_name = {check.name: check for check in checks}

    def section(name: str) -> dict | None:
        check = by_name.get(name)
        return (
            None if check is None else {"ok": check.ok, "warning": check.warning, "detail": check.detail, **check.facts}
        )

    last = by_name.get("last_backup")
    return {
        "ok": all(check.ok for check in checks),
        "warnings": [check.name for check in checks if check.ok and check.warning],
        "checks": [{key: value for key, value in check.as_dict().items() if key != "facts"} for check in checks],
        "database": section("database"),
        "schema": section("schema"),
        "audit": section("audit"),
        "backup_dir": section("backup_dir"),
        "last_verified_backup": last.facts.get("last_verified") if last else None,
        "backups": last.facts.get("counts") if last else None,
        "offsite": section("offsite"),
        "prefect_api": section("prefect_api"),
    }
