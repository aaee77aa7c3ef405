"""``rotaguard swap``: the commands that need no Prefect run, on SQLite and PostgreSQL."""

import json

import pytest

from rotaguard.db import AssignmentRepository, AuditLog, Database
from swapdata import day, seed


@pytest.fixture
def seeded(cli, database_url):
    database = Database(database_url)
    seed(database)
    yield database
    database.dispose()


def _request(cli, *extra):
    return cli(
        "swap",
        "request",
        "--as",
        "R2-01",
        "--person",
        "R2-01",
        "--start",
        str(day(0)),
        "--end",
        str(day(0)),
        *extra,
        "--json",
    )


def test_request_accept_list_through_the_cli(cli, seeded):
    asked = _request(cli, "--with", "R2-03", "--reason", "family event")
    assert asked.code == 0, asked.err
    swap_id = json.loads(asked.out)["id"]
    assert json.loads(asked.out)["status"] == "pending"
    accepted = cli("swap", "accept", swap_id, "--as", "R2-03", "--json")
    assert accepted.code == 0, accepted.err
    assert json.loads(accepted.out)["status"] == "approved"
    mine = json.loads(cli("swap", "list", "--as", "R2-03", "--json").out)["swaps"]
    assert [s["id"] for s in mine] == [swap_id]
    assert json.loads(cli("swap", "list", "--as", "R1-01", "--json").out)["swaps"] == []
    shown = cli("swap", "list", "--as", "C-01")
    assert shown.code == 0 and swap_id in shown.out and "approved" in shown.out


def test_an_open_request_lists_ranked_candidates(cli, seeded):
    asked = _request(cli)
    assert asked.code == 0, asked.err
    payload = json.loads(asked.out)
    ranked = cli("swap", "candidates", payload["id"], "--as", "R2-01", "--json")
    assert ranked.code == 0
    people = [c["person_id"] for c in json.loads(ranked.out)["candidates"]]
    assert people == [c["person_id"] for c in payload["candidates"]] and "R1-01" not in people
    table = cli("swap", "candidates", payload["id"], "--as", "R2-01")
    assert "score" in table.out and people[0] in table.out


def test_a_coordinator_decides_what_needs_approval(cli, seeded):
    asked = cli(
        "swap",
        "request",
        "--as",
        "C-01",
        "--person",
        "R2-02",
        "--with",
        "R2-03",
        "--start",
        str(day(4)),
        "--end",
        str(day(4)),
        "--json",
    )
    swap_id = json.loads(asked.out)["id"]
    assert json.loads(cli("swap", "accept", swap_id, "--as", "R2-03", "--json").out)["status"] == "needs_approval"
    denied = cli("swap", "approve", swap_id, "--as", "R2-02")
    assert (
        denied.code == 77
        and denied.err.startswith(f"rotaguard: error: resident R2-02 may not approve swap {swap_id}")
        and denied.err.count("\n") == 1
    ), denied.err
    rejected = cli("swap", "approve", swap_id, "--as", "C-01", "--reject", "--comment", "ward short", "--json")
    assert rejected.code == 0 and json.loads(rejected.out)["status"] == "rejected"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("--start", "2027-13-01", "--end", "2027-13-01"), 2, "--start/--end-start"),
        (("--kind", "trade"), 2, "Invalid value for '--kind': 'trade' is not one of 'absorb', 'one-to-one'"),
        (("--with", "NOBODY"), 1, "no person 'NOBODY'"),
        (("--kind", "one-to-one", "--with", "R3-01"), 1, "needs range B"),
        (("--kind", "one-to-one", "--with", "R3-01", "--b-start", str(day(2))), 2, "give both the start and the end"),
    ],
)
def test_bad_requests_fail_with_one_line_and_write_nothing(cli, seeded, args, code, message):
    base = ["swap", "request", "--as", "R2-01", "--person", "R2-01"]
    dates = [] if "--start" in args else ["--start", str(day(0)), "--end", str(day(0))]
    result = cli(*base, *dates, *args)
    assert result.code == code, result.err
    assert result.err.startswith("rotaguard: error: ") and message in result.err and "Traceback" not in result.err
    with seeded.read() as session:
        assert [e.action for e in AuditLog(session).events()] in ([], ["swap.denied"])
        assert AssignmentRepository(session).count() == 8


def test_unknown_ids_and_statuses_are_one_line_errors(cli, seeded):
    missing = cli("swap", "accept", "no-such-swap", "--as", "R2-03")
    assert missing.code == 1 and "no swap request 'no-such-swap'" in missing.err
    status = cli("swap", "list", "--as", "C-01", "--status", "done")
    assert status.code == 2 and "Invalid value for '--status': 'done' is not one of 'pending'" in status.err
    stranger = cli("swap", "list", "--as", "STRANGER")
    assert stranger.code == 77 and "'STRANGER' is not an active person or staff member" in stranger.err
