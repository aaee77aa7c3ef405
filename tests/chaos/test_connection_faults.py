"""Connection faults between RotaGuard and PostgreSQL: a real TCP proxy drops or stalls the link
mid-transaction.

Every write below goes through the proxy; what the database holds is read over a direct
connection. Each case proves: nothing of the interrupted transaction is committed, the error is
one clear line, a stall ends (the client's bounded waits, rotaguard.db.engine), and the same
operation run again once the link is back yields exactly the intended state, once.

A fault lands "at the Kth query": the proxy counts the queries the client sends and applies the
fault instead of forwarding the Kth, so it hits the same point of the transaction every run. A
rehearsal on an identical database finds how many queries the operation sends. Plain `make test`
runs a few points per operation; ROTAGUARD_CHAOS=1 runs every point.

PostgreSQL only (a TCP link means nothing to SQLite); the fixtures fail under CI without a server.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import rotaguard.db.engine as engine_module
from dbstate import digest, table_rows
from factories import assignment, dumps, program_document
from rotaguard.cli.main import main
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.locks import SCHEDULE_WRITES, LockLease
from rotaguard.db.tables import AssignmentRow, OperationLockRow
from rotaguard.domain import Slot
from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import export_document, import_document
from rotaguard.swaps import SwapService
from swapdata import Clock, day, seed

if TYPE_CHECKING:
    from tcp_proxy import FaultProxy

# The proxy's fixtures (fault_proxy, proxied_postgres).
pytest_plugins = ["tcp_proxy"]
pytestmark = pytest.mark.postgres

CHAOS = os.environ.get("ROTAGUARD_CHAOS") == "1"
# How long a stalled statement may go unanswered in these tests (production: 300 s).
TEST_RESPONSE_TIMEOUT = 2.0


@pytest.fixture
def short_waits(monkeypatch):
    """The product's bounded waits, shortened so a stall ends within the test."""
    monkeypatch.setattr(engine_module, "RESPONSE_TIMEOUT_SECONDS", TEST_RESPONSE_TIMEOUT)
    monkeypatch.setattr(engine_module, "CONNECT_TIMEOUT_SECONDS", 2)


@pytest.fixture
def rehearsal_url(postgres_server, postgres_template, fault_proxy) -> str:
    """Another throwaway database behind the same proxy, to count an operation's queries."""
    from sqlalchemy.engine import make_url

    name = postgres_server.create(template=postgres_template)
    yield (
        make_url(postgres_server.url(name))
        .set(host="127.0.0.1", port=fault_proxy.port)
        .render_as_string(hide_password=False)
    )
    postgres_server.drop(name)


def _connected(url: str) -> Database:
    """A database handle whose first connection is already made: the dialect's own start-up
    queries are then out of the way, and every run of an operation sends the same queries."""
    database = Database(url)
    with database.read() as session:
        session.execute(select(1))
    return database


def _rehearse(proxy: FaultProxy, url: str, operation: Callable[[Database], object]) -> list[str]:
    """The queries ``operation`` sends, in order, run on a database like the one to break."""
    database = _connected(url)
    try:
        proxy.count()
        operation(database)
        return list(proxy.query_log)
    finally:
        database.dispose()


_WRITES = ("INSERT", "UPDATE", "DELETE")


def _write_transactions(log: list[str], touching: str = "") -> list[tuple[int, int]]:
    """(first statement, COMMIT) query numbers (1-based) of each transaction that writes ``touching``."""
    spans, begin = [], None
    for number, sql in enumerate(log, 1):
        if sql.startswith("BEGIN"):
            begin = number
        elif sql.startswith("COMMIT") and begin is not None:
            body = log[begin : number - 1]
            if any(q.startswith(_WRITES) and touching in q for q in body):
                spans.append((begin + 1, number))
            begin = None
    return spans


def _fault_points(span: tuple[int, int], fault: str = "drop") -> list[int]:
    """Where to break a transaction: at every statement and its COMMIT under ROTAGUARD_CHAOS=1;
    else one statement in the middle and (for a reset, which costs no waiting) the COMMIT itself."""
    first, commit = span
    if CHAOS:
        return list(range(first, commit + 1))
    return [(first + commit) // 2] if fault == "stall" else [(first + commit) // 2, commit]


def _one_clear_line(error: BaseException) -> str:
    """The first line of the error as the CLI would print it, checked for naming the connection."""
    reason = str(error.orig if isinstance(error, OperationalError) and error.orig else error).splitlines()[0]
    assert "connection" in reason, reason
    return reason


def _audit_actions(database: Database) -> list[str]:
    with database.read() as session:
        log = AuditLog(session)
        assert log.verify().ok
        return [event.action for event in reversed(log.events())]


# ---------------------------------------------------------------- program import (one transaction)


def _document():
    return parse_document(dumps(program_document()))


def _import(database: Database):
    return import_document(database, _document(), actor="chaos", source="synthetic")


def _assert_imported_once(direct: Database) -> None:
    wanted = _document()
    stored = export_document(direct)
    assert stored is not None
    assert sorted(p.id for p in stored.people) == sorted(p.id for p in wanted.people)
    # The export is v2 (duties), the fixture v1 (assignments): compare the domain rows.
    assert sorted(a.model_dump_json() for a in stored.to_schedule().assignments) == sorted(
        a.model_dump_json() for a in wanted.to_schedule().assignments
    )
    with direct.read() as session:
        assert session.scalar(select(func.count()).select_from(AssignmentRow)) == len(wanted.assignments)
    assert _audit_actions(direct) == ["program.import"]


@pytest.mark.parametrize("fault", ["drop", "stall"])
def test_an_import_broken_mid_transaction_commits_nothing_and_succeeds_when_run_again(
    fault, fault_proxy, proxied_postgres, rehearsal_url, short_waits
):
    url, direct_url = proxied_postgres
    direct = Database(direct_url)
    untouched = digest(direct)
    log = _rehearse(fault_proxy, rehearsal_url, _import)
    [span] = _write_transactions(log)
    assert span[1] - span[0] >= 10, f"the import sent only {log}"
    for k in _fault_points(span, fault):
        database = _connected(url)
        fault_proxy.fault_at_query(k, fault)
        with pytest.raises(OperationalError) as caught:
            _import(database)
        assert fault_proxy.faults_fired >= 1
        if fault == "stall":
            assert "no answer from the database server" in _one_clear_line(caught.value)
        else:
            _one_clear_line(caught.value)
        assert digest(direct) == untouched, (
            f"a {fault} at query {k} ({log[k - 1][:40]}) left part of the import committed"
        )
        fault_proxy.heal()
        database.dispose()
    # The link is back: the same import, through the same proxy, does it all, once.
    database = _connected(url)
    result = _import(database)
    assert result.changed_anything
    _assert_imported_once(direct)
    # And once more changes nothing (no duplicates from the interrupted attempts either).
    assert not _import(database).changed_anything
    assert _audit_actions(direct) == ["program.import"]
    database.dispose()
    direct.dispose()


def test_a_pooled_connection_dropped_between_operations_is_replaced_transparently(fault_proxy, proxied_postgres):
    """pool_pre_ping: a connection that died while idle in the pool is not handed out."""
    url, direct_url = proxied_postgres
    database = _connected(url)
    fault_proxy.blip()  # every open connection reset while nobody was using it
    assert fault_proxy.open_connections == 0
    result = _import(database)
    assert result.changed_anything
    _assert_imported_once(Database(direct_url))
    database.dispose()


# ---------------------------------------------------------------- a bulk write of assignments


def _bulk_assignments() -> list:
    """A month of AM, PM and call for the factory program's people: hundreds of rows, one statement batch."""
    document = _document()
    people = [p.id for p in document.people][:6]
    start = date(2026, 6, 1)
    rows = []
    for offset in range(30):
        when = start + timedelta(days=offset)
        for index, person in enumerate(people):
            slot = (Slot.AM, Slot.PM, Slot.CALL)[(offset + index) % 3]
            rotation = "NIGHT" if slot is Slot.CALL else "WARDS"
            rows.append(assignment(person, when, slot, rotation))
    return rows


def _write_bulk(database: Database) -> None:
    with database.write() as session:
        AssignmentRepository(session).upsert(assignments=_bulk_assignments())


@pytest.mark.parametrize("fault", ["drop", "stall"])
def test_a_bulk_assignment_write_cut_half_way_through_its_bytes_commits_nothing(
    fault, fault_proxy, proxied_postgres, short_waits
):
    url, direct_url = proxied_postgres
    direct = Database(direct_url)
    _import(direct)
    database = _connected(url)
    fault_proxy.count()
    _write_bulk(database)
    sent = fault_proxy.client_bytes
    with direct.read() as session:
        wanted = sorted(a.model_dump_json() for a in AssignmentRepository(session).schedule().assignments)
    # Back to the imported state, then cut the same write half-way through its bytes.
    with direct.write() as session:
        session.execute(AssignmentRow.__table__.delete().where(AssignmentRow.date >= date(2026, 6, 1)))
    before = digest(direct)
    fault_proxy.fault_after_bytes(sent // 2, fault)
    with pytest.raises(OperationalError) as caught:
        _write_bulk(database)
    _one_clear_line(caught.value)
    assert digest(direct) == before
    fault_proxy.heal()
    _write_bulk(database)
    with direct.read() as session:
        assert sorted(a.model_dump_json() for a in AssignmentRepository(session).schedule().assignments) == wanted
    database.dispose()
    direct.dispose()


# ---------------------------------------------------------------- a swap's execution


def _approved_swap(database: Database) -> tuple[SwapService, str]:
    seed(database)
    swaps = SwapService(database, clock=Clock(), lock_wait_seconds=5)
    asked = swaps.request(
        actor_id="R2-01",
        kind=SwapKind.ABSORB,
        person_a="R2-01",
        person_b="R2-03",
        range_a=DateRange(start=day(0), end=day(0)),
    )
    assert swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True).request.status is SwapStatus.APPROVED
    return swaps, asked.request.id


def _call_holder(database: Database) -> list[str]:
    with database.read() as session:
        schedule = AssignmentRepository(session).schedule(start=day(0), end=day(0))
        return [a.person_id for a in schedule.assignments if a.slot == Slot.CALL]


def test_a_swap_execution_reset_mid_transaction_moves_nothing_and_runs_again(
    fault_proxy, proxied_postgres, rehearsal_url, short_waits
):
    """The link resets (a killed backend, a server restart) inside the execute transaction: no
    assignment moves, the swap stays approved, the schedule-writes lock is given back (the lease
    is released over a fresh connection: the digest covers operation_locks), and executing again
    moves it exactly once."""
    url, direct_url = proxied_postgres

    def prepare_and_count(database: Database) -> None:
        swaps, swap_id = _approved_swap(database)
        fault_proxy.count()
        swaps.execute(swap_id=swap_id, actor_id="R2-01")

    rehearsal = _connected(rehearsal_url)
    prepare_and_count(rehearsal)
    log = list(fault_proxy.query_log)
    rehearsal.dispose()
    [span] = _write_transactions(log, touching="assignments")
    database = _connected(url)
    swaps, swap_id = _approved_swap(database)
    direct = Database(direct_url)
    before = digest(direct)
    for k in _fault_points(span):
        fault_proxy.fault_at_query(k, "blip")
        with pytest.raises(OperationalError) as caught:
            swaps.execute(swap_id=swap_id, actor_id="R2-01")
        _one_clear_line(caught.value)
        assert digest(direct) == before, f"a reset at query {k} ({log[k - 1][:40]}) left part of the swap committed"
        assert _call_holder(direct) == ["R2-01"]
        fault_proxy.heal()
    executed = swaps.execute(swap_id=swap_id, actor_id="R2-01")
    assert executed.request.status is SwapStatus.EXECUTED
    assert _call_holder(direct) == ["R2-03"]
    assert _audit_actions(direct).count("swap.execute") == 1
    with direct.read() as session:
        assert session.scalar(select(func.count()).select_from(OperationLockRow)) == 0
    database.dispose()
    direct.dispose()


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def proxied_cli(proxied_postgres, tmp_path, monkeypatch, capsys):
    url, _ = proxied_postgres
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_ACTOR", "A-01")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _schedule_digest(database: Database) -> str:
    """Every table but the operation locks (see _assert_lock_left_at_most_for_its_lease)."""
    rows = table_rows(database)
    rows.pop("operation_locks")
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def _assert_lock_left_at_most_for_its_lease(database: Database) -> None:
    """The import holds the schedule-writes lock in its own, earlier transaction. When the link
    is down, giving it back fails too, so the lock stays until its lease runs out (a holder that
    vanished lets go within the lease's TTL, 90 s): bounded, never for good."""
    with database.read() as session:
        now = session.scalar(select(func.now()))
        for row in session.scalars(select(OperationLockRow)):
            assert row.name == SCHEDULE_WRITES and row.holder.startswith("import-")
            assert row.expires_at - now <= LockLease(database, name=SCHEDULE_WRITES, holder="probe").ttl


def _assert_one_line_database_error(code: int, err: str) -> None:
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("rotaguard: error: database unavailable: "), err
    assert "connection" in err and "Traceback" not in err, err


@pytest.mark.parametrize("fault", ["drop", "stall"])
def test_cli_program_import_broken_mid_transaction_fails_in_one_line_and_succeeds_when_run_again(
    fault, fault_proxy, proxied_postgres, rehearsal_url, proxied_cli, tmp_path, monkeypatch, short_waits
):
    url, direct_url = proxied_postgres
    path = tmp_path / "program.json"
    path.write_text(dumps(program_document()))
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", rehearsal_url)
    fault_proxy.count()
    code, _, err = proxied_cli("program", "import", str(path))
    assert code == 0, err
    [span] = _write_transactions(list(fault_proxy.query_log), touching="assignments")
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", url)
    direct = Database(direct_url)
    untouched = _schedule_digest(direct)
    for k in _fault_points(span, fault):
        fault_proxy.fault_at_query(k, fault)
        code, out, err = proxied_cli("program", "import", str(path))
        _assert_one_line_database_error(code, err)
        assert _schedule_digest(direct) == untouched, f"a {fault} at query {k} left part of the import committed"
        _assert_lock_left_at_most_for_its_lease(direct)
        fault_proxy.heal()
    code, out, err = proxied_cli("program", "import", str(path), "--json")
    assert code == 0, err
    _assert_imported_once(direct)
    direct.dispose()


def test_cli_against_a_stalled_link_ends_with_one_line_instead_of_hanging(
    fault_proxy, proxied_postgres, proxied_cli, short_waits
):
    """The link stalls before the command even connects: connect_timeout ends it."""
    fault_proxy.stall()
    code, _, err = proxied_cli("program", "show", "--json")
    assert code == 1 and err.startswith("rotaguard: error: database unavailable: ") and err.count("\n") == 1, err
    assert "timeout" in err and "Traceback" not in err
    fault_proxy.heal()
    code, out, err = proxied_cli("program", "show", "--json")
    assert code == 1 and "no program has been imported yet" in err


def test_the_bounded_waits_are_configured_but_a_url_may_override_them():
    defaults = engine_module.postgres_connect_defaults(engine_module.make_url("postgresql+psycopg://u@h/db"))
    assert defaults["connect_timeout"] == engine_module.CONNECT_TIMEOUT_SECONDS
    assert defaults["keepalives"] == 1 and defaults["tcp_user_timeout"] > 0
    assert "tcp_keepalives_idle" in defaults["options"]
    overridden = engine_module.postgres_connect_defaults(
        engine_module.make_url("postgresql+psycopg://u@h/db?connect_timeout=3&options=-c%20x%3D1")
    )
    assert "connect_timeout" not in overridden and "options" not in overridden
    assert json.dumps(defaults)  # plain values only: they go into libpq's conninfo
