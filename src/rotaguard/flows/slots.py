"""The ``schedule-writes`` Prefect slot: taken with a lease that names its holding process, and
given back when that process is provably gone.

Prefect frees a slot whose holder was killed only when its lease expires (60 s, the shortest
Prefect allows) AND the server's repossessor service revokes it. Neither happens when the lease
lived in memory that died (Prefect's default lease storage, on an ephemeral API or a restarted
server): the slot then stays taken for good. So each holder's lease names the process: its holder
id is a UUIDv8 holding a digest of this machine's host key and the process id
(:func:`holder_id`). Where the API's leases can be read (the local server RotaGuard starts, or an
ephemeral API, both with Prefect's filesystem lease storage), :func:`free_dead_holders` revokes the
leases of processes provably gone (rotaguard.db.processes) and gives back slots no lease holds any
more (their lease memory died). Every writer does so before it waits for the slot, and
``rotaguard recover`` does. Against another server (whose leases live elsewhere) the slot of a
killed holder comes back when its lease expires: 60 s plus that server's repossessor loop (15 s
by default).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prefect.concurrency.sync import concurrency

from rotaguard.db import processes
from rotaguard.db.locks import SCHEDULE_WRITES

LEASE_SECONDS = 60  # the shortest lease Prefect accepts; renewed every 45 s while held
ORPHAN_RECHECK_SECONDS = 1.0  # a slot seen without a lease twice, this far apart, has none
_FILESYSTEM_LEASES = "prefect.server.concurrency.lease_storage.filesystem"
_LOCAL_API_URL = "ROTAGUARD_LOCAL_PREFECT_API_URL"  # set with PREFECT_API_URL by the CLI (deployments.local_api)
_LOCAL_LEASES = "ROTAGUARD_LOCAL_PREFECT_LEASES"

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- holder ids


def _digest(text: str, bits: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> (64 - bits)


def _machine_parts() -> tuple[str, str]:
    name, _, rest = processes.host_key().partition(processes.SEPARATOR)
    namespace, _, boot = rest.partition(processes.SEPARATOR)
    return f"{name}{processes.SEPARATOR}{namespace}", boot


def holder_id(pid: int | None = None) -> uuid.UUID:
    """This process as a lease holder id: a UUIDv8 of 60 bits of the machine's digest (host name and
    PID namespace), the PID (22 bits: Linux's largest) and 40 bits of the boot id's digest."""
    machine, boot = _machine_parts()
    pid = os.getpid() if pid is None else pid
    high = (_digest(machine, 60) >> 12 << 16) | (0x8 << 12) | (_digest(machine, 60) & 0xFFF)
    low = (0b10 << 62) | ((pid & 0x3FFFFF) << 40) | _digest(boot, 40)
    return uuid.UUID(int=(high << 64) | low)


def holder_gone(holder: uuid.UUID | str | None) -> bool:
    """Whether a lease holder id names a process of this machine that provably runs no more."""
    try:
        value = uuid.UUID(str(holder))
    except ValueError:
        return False
    if value.version != 8:
        return False  # not one of ours
    machine, boot = _machine_parts()
    high, low = value.int >> 64, value.int & ((1 << 64) - 1)
    if ((high >> 16) << 12 | (high & 0xFFF)) != _digest(machine, 60):
        return False  # another machine or PID namespace: its processes cannot be seen from here
    if (low & ((1 << 40) - 1)) != _digest(boot, 40):
        return True  # this machine has booted since
    return not processes.pid_running((low >> 40) & 0x3FFFFF)


# ---------------------------------------------------------------------------------------------- taking the slot


@contextlib.contextmanager
def schedule_writes_slot(wait_seconds: float) -> Iterator[None]:
    """Hold the one ``schedule-writes`` slot (strict: a missing limit is an error, not no limit),
    with a lease naming this process; raises TimeoutError when not had within ``wait_seconds``.
    A slot held by a process provably gone is given back first."""
    from prefect import get_run_logger
    from prefect.client.schemas.objects import ConcurrencyLeaseHolder
    from prefect.exceptions import MissingContextError

    try:
        log = get_run_logger()
    except MissingContextError:
        log = logger
    try:
        for sentence in free_dead_holders():
            log.warning(sentence)
    except Exception as error:  # never a reason not to try: the slot may well be free
        log.warning("could not check the schedule-writes slot's holders: %s", error)
    holder = ConcurrencyLeaseHolder(type="flow_run", id=holder_id())
    with concurrency(
        SCHEDULE_WRITES,
        occupy=1,
        timeout_seconds=wait_seconds,
        strict=True,
        lease_duration=LEASE_SECONDS,
        holder=holder,
    ):
        yield


# ---------------------------------------------------------------------------------------------- giving it back


@dataclass(frozen=True)
class _Lease:
    id: str
    resource_ids: tuple[str, ...]
    slots: int
    holder: str | None
    expiration: dt.datetime


def _lease_directory() -> tuple[Path | None, bool]:
    """Where the API in use keeps its leases, when this process can read them, and whether that
    API revokes expired leases itself (a server's repossessor; an ephemeral API runs none)."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    url = (settings.api.url or "").rstrip("/")
    local_url, local_leases = os.environ.get(_LOCAL_API_URL, "").rstrip("/"), os.environ.get(_LOCAL_LEASES)
    if url and local_leases and url == local_url:
        return Path(local_leases), True
    storage = os.environ.get("PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE") or settings.server.concurrency.lease_storage
    if not url and storage == _FILESYSTEM_LEASES and settings.server.ephemeral.enabled:
        return Path(settings.home) / "concurrency_leases", False
    return None, True


def _read_leases(directory: Path) -> list[_Lease]:
    """The leases Prefect 3.8's filesystem lease storage holds (``<lease id>.json`` each)."""
    leases = []
    for path in directory.glob("*.json"):
        if path.name == "expirations.json":
            continue
        try:
            data = json.loads(path.read_text())
            metadata = data.get("metadata") or {}
            leases.append(
                _Lease(
                    id=str(data["id"]),
                    resource_ids=tuple(str(rid) for rid in data["resource_ids"]),
                    slots=int(metadata.get("slots", 0)),
                    holder=(metadata.get("holder") or {}).get("id"),
                    expiration=dt.datetime.fromisoformat(data["expiration"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being replaced right now, or not a lease
    return leases


@contextlib.contextmanager
def _one_reaper(directory: Path) -> Iterator[None]:
    """One process at a time gives slots back, so that none is given back twice."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / "rotaguard-slots.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def free_dead_holders() -> list[str]:
    """Give back ``schedule-writes`` slots whose holder provably runs no more; returns what was done,
    one sentence each. Does nothing (and asks nothing of the API) when this process cannot read the
    API's leases: that server's own repossessor frees them when they expire."""
    directory, repossessed = _lease_directory()
    if directory is None:
        return []
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    done: list[str] = []
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(SCHEDULE_WRITES)
        except ObjectNotFound:
            return []
        if limit.active_slots == 0:
            return []
        limit_id = str(limit.id)
        with _one_reaper(directory):
            now = dt.datetime.now(dt.UTC)
            for lease in _read_leases(directory):
                if limit_id not in lease.resource_ids:
                    continue
                expired, gone = lease.expiration <= now, holder_gone(lease.holder)
                # An expired lease is the server's repossessor's to revoke, where it runs one.
                if (gone and not expired) or (expired and not repossessed):
                    client.release_concurrency_slots_with_lease(uuid.UUID(lease.id))
                    why = "its holder's process is gone" if gone else "it expired"
                    done.append(f"gave back the {SCHEDULE_WRITES} slot of lease {lease.id}: {why}")
            unheld = _unheld_slots(client, directory, limit_id)
            if unheld > 0:
                time.sleep(ORPHAN_RECHECK_SECONDS)  # a slot just taken has its lease a moment later
                unheld = min(unheld, _unheld_slots(client, directory, limit_id))
            if unheld > 0:
                client.release_concurrency_slots([SCHEDULE_WRITES], unheld, occupancy_seconds=1.0)
                done.append(
                    f"gave back {unheld} {SCHEDULE_WRITES} slot(s) that no lease holds (their lease memory was lost)"
                )
    return done


def _unheld_slots(client, directory: Path, limit_id: str) -> int:
    active = client.read_global_concurrency_limit_by_name(SCHEDULE_WRITES).active_slots
    held = sum(lease.slots for lease in _read_leases(directory) if limit_id in lease.resource_ids)
    return max(0, active - held)
