"""Which process holds something, and whether it is provably gone.

A lock or a lease records its holder's host key and process id. A holder is *provably gone* only
when it ran on this machine, in this PID namespace (a container with its own PID namespace and
the same host name is another machine here), and either the machine has booted since or no such
process exists any more (a zombie counts as gone: it runs nothing). Anything else (another
machine, another namespace, nothing recorded, a PID the kernel has given to a new process) is not
proof: the holder's lease must run out instead.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path

SEPARATOR = "|"


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@cache
def host_key() -> str:
    """``hostname|pid namespace|boot id`` of this process (empty parts where the system has none)."""
    parts = (socket.gethostname(), _pid_namespace(), _read("/proc/sys/kernel/random/boot_id"))
    return SEPARATOR.join(part.replace(SEPARATOR, "_") for part in parts)[:255]


def pid_running(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie (another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _read(f"/proc/{pid}/stat")
    # The state follows the command name in parentheses, which may itself hold ") ".
    return not (stat and stat.rpartition(")")[2].split()[:1] == ["Z"])


def is_gone(host: str | None, pid: int | None) -> bool:
    """True only when the holder ``host``/``pid`` provably runs no more (see the module's docstring)."""
    if not host or not pid:
        return False
    name, _, rest = host.partition(SEPARATOR)
    namespace, _, boot = rest.partition(SEPARATOR)
    here_name, _, here_rest = host_key().partition(SEPARATOR)
    here_namespace, _, here_boot = here_rest.partition(SEPARATOR)
    if name != here_name or namespace != here_namespace:
        return False
    if boot and here_boot and boot != here_boot:
        return True  # this machine has booted since: nothing of that boot runs
    return not pid_running(pid)
