"""A small TCP proxy between RotaGuard and PostgreSQL that breaks the connection on command.

Every client connection gets its own thread that forwards both directions with ``select``,
so a fault is applied between two PostgreSQL protocol messages, never half-way through one.
It reads the client's side of the protocol just enough to count the queries it sends
(simple ``Query`` and extended-protocol ``Execute`` messages): "fault at the Kth query" then
lands at the same point of a transaction every time, before that query reaches the server.

Faults:
- ``drop()``: reset (RST) every open connection now and refuse new ones until ``heal()``;
  ``blip()`` resets the open ones but keeps accepting (a server restart, a killed backend).
- ``stall()``: stop forwarding in both directions, sockets left open (a partition, a hung
  middlebox): nothing the client sends arrives and nothing comes back.
- ``fault_at_query(k, action)``: the same, when the Kth query since arming is about to pass.
- ``fault_after_bytes(n, action)``: the same, once ``n`` more client bytes have been forwarded.
- ``heal()``: reset what a stall left hanging (both ends gave up long ago in a real partition)
  and forward new connections normally again.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url

POLL_SECONDS = 0.02
QUERY_MESSAGES = (b"Q", b"E")  # simple Query, extended-protocol Execute
_STARTUP_PROTOCOL = 196608  # 3.0: the StartupMessage; SSLRequest/GSSENCRequest/CancelRequest use other codes
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on with 0 s: close() sends RST, not FIN


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    except OSError:
        pass
    sock.close()


class ClientMessages:
    """Splits the client's byte stream into whole protocol messages (startup ones are untyped)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False

    def feed(self, data: bytes) -> Iterator[tuple[bytes | None, bytes]]:
        """Yield (type or None for a startup-phase message, raw bytes) for every complete message."""
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    return
                raw, self.buffer = self.buffer[:length], self.buffer[length:]
                if code == _STARTUP_PROTOCOL:
                    self.started = True
                yield None, raw
            else:
                if len(self.buffer) < 5:
                    return
                length = struct.unpack("!i", self.buffer[1:5])[0] + 1
                if len(self.buffer) < length:
                    return
                raw, self.buffer = self.buffer[:length], self.buffer[length:]
                yield raw[:1], raw


@dataclass
class _Trigger:
    action: str  # "drop", "blip" or "stall"
    at_query: int | None = None
    after_bytes: int | None = None


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; see the module docstring for the faults."""

    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_SECONDS * 5)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[_Pair] = []
        self._refusing = False
        self._stalled = False
        self._closed = False
        self._trigger: _Trigger | None = None
        self.queries = 0  # queries forwarded since the last arm()/count reset
        self.query_log: list[str] = []  # their SQL, in order (to find where a transaction begins and ends)
        self.client_bytes = 0
        self.faults_fired = 0
        self._accepting = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        self._accepting.start()

    # ------------------------------------------------------------------ controls

    def drop(self) -> None:
        """Reset every open connection now; refuse new ones until heal()."""
        with self._lock:
            self._refusing = True
            pairs = list(self._pairs)
        self._reset_pairs(pairs)

    def blip(self) -> None:
        """Reset every open connection now; new connections go through."""
        with self._lock:
            pairs = list(self._pairs)
        self._reset_pairs(pairs)

    def stall(self) -> None:
        """Stop forwarding anything, on open and new connections; sockets stay open."""
        with self._lock:
            self._stalled = True

    def heal(self) -> None:
        """Back to normal: reset whatever a stall left hanging, forward new connections."""
        with self._lock:
            stalled = self._stalled
            self._stalled = False
            self._refusing = False
            self._trigger = None
            pairs = list(self._pairs) if stalled else []
        self._reset_pairs(pairs)

    def count(self) -> None:
        """Start counting queries and client bytes from zero (no fault armed)."""
        with self._lock:
            self.queries = 0
            self.query_log = []
            self.client_bytes = 0
            self._trigger = None

    def fault_at_query(self, k: int, action: str = "drop") -> None:
        """Apply ``action`` when the Kth query from now is about to reach the server (it never does)."""
        self._arm(_Trigger(action=action, at_query=k))

    def fault_after_bytes(self, n: int, action: str = "drop") -> None:
        """Apply ``action`` at the first message boundary after ``n`` client bytes from now."""
        self._arm(_Trigger(action=action, after_bytes=n))

    def _arm(self, trigger: _Trigger) -> None:
        if trigger.action not in ("drop", "blip", "stall"):
            raise ValueError(f"unknown fault {trigger.action!r}")
        with self._lock:
            self.queries = 0
            self.query_log = []
            self.client_bytes = 0
            self._trigger = trigger

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pairs = list(self._pairs)
        self._reset_pairs(pairs)
        self._accepting.join(timeout=5)
        self._listener.close()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for pair in self._pairs if not pair.finished.is_set())

    # ------------------------------------------------------------------ machinery

    def _reset_pairs(self, pairs: list[_Pair]) -> None:
        for pair in pairs:
            pair.reset_requested.set()
        for pair in pairs:
            if threading.current_thread() is not pair.thread:
                pair.finished.wait(timeout=5)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refusing = self._refusing or self._closed
            if refusing:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            pair = _Pair(self, client, upstream)
            with self._lock:
                self._pairs = [p for p in self._pairs if not p.finished.is_set()] + [pair]
            pair.thread.start()

    def _before_client_message(self, kind: bytes | None, size: int, sql: str) -> str | None:
        """Count the message; the fault to apply instead of forwarding it, if any."""
        with self._lock:
            trigger = self._trigger
            if kind in QUERY_MESSAGES:
                self.queries += 1
                self.query_log.append(sql)
            fire = trigger is not None and (
                (trigger.at_query is not None and kind in QUERY_MESSAGES and self.queries >= trigger.at_query)
                or (trigger.after_bytes is not None and self.client_bytes >= trigger.after_bytes)
            )
            if not fire:
                self.client_bytes += size
                return None
            self._trigger = None
            self.faults_fired += 1
            if trigger.action == "drop":
                self._refusing = True
            if trigger.action == "stall":
                self._stalled = True
            return trigger.action

    def _is_stalled(self) -> bool:
        with self._lock:
            return self._stalled


class _Pair:
    """One client connection and its upstream connection, forwarded by one thread."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy, self.client, self.upstream = proxy, client, upstream
        self.messages = ClientMessages()
        self.parsed_sql = ""  # the statement the next Execute runs (from the last Parse)
        self.reset_requested = threading.Event()
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fault-proxy-pair", daemon=True)

    def _run(self) -> None:
        try:
            self._forward()
        except OSError:
            pass
        finally:
            _reset(self.client)
            _reset(self.upstream)
            self.finished.set()

    def _forward(self) -> None:
        sockets = [self.client, self.upstream]
        while not self.reset_requested.is_set():
            if self.proxy._is_stalled():
                # Nothing is read, so nothing is forwarded and no close is noticed either.
                self.reset_requested.wait(POLL_SECONDS)
                continue
            readable, _, _ = select.select(sockets, [], [], POLL_SECONDS)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return  # one side closed: close the other (as a real connection would)
                if sock is self.upstream:
                    self.client.sendall(data)
                elif not self._from_client(data):
                    return

    def _from_client(self, data: bytes) -> bool:
        """Forward whole client messages; False when a fault ended this connection."""
        for kind, raw in self.messages.feed(data):
            action = self.proxy._before_client_message(kind, len(raw), self._sql(kind, raw))
            if action in ("drop", "blip"):
                self.proxy._reset_pairs([p for p in self.proxy._pairs if p is not self])
                return False
            if action == "stall":
                # Keep what was not forwarded: it never arrives, and the stall loop takes over.
                return True
            self.upstream.sendall(raw)
        return True

    def _sql(self, kind: bytes | None, raw: bytes) -> str:
        """The text of a Query, or of the statement an Execute runs ("" for other messages)."""
        if kind == b"Q":
            return raw[5:].rstrip(b"\0").decode("utf-8", "replace")
        if kind == b"P":
            _, _, rest = raw[5:].partition(b"\0")
            self.parsed_sql = rest.partition(b"\0")[0].decode("utf-8", "replace")
        if kind == b"E":
            sql, self.parsed_sql = self.parsed_sql or "(a prepared statement)", ""
            return sql
        return ""


def _host_port(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


@pytest.fixture
def fault_proxy(postgres_server) -> Iterator[FaultProxy]:
    """A proxy in front of the test PostgreSQL server (closed after the test)."""
    proxy = FaultProxy(_host_port(postgres_server.admin_url))
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_postgres(postgres_server, postgres_template, fault_proxy) -> Iterator[tuple[str, str]]:
    """A throwaway migrated PostgreSQL database: (URL through the fault proxy, direct URL)."""
    name = postgres_server.create(template=postgres_template)
    direct = postgres_server.url(name)
    through_proxy = make_url(direct).set(host="127.0.0.1", port=fault_proxy.port).render_as_string(hide_password=False)
    yield through_proxy, direct
    fault_proxy.heal()
    postgres_server.drop(name)
