"""Shared hypothesis strategies for hostile and malformed input, and the settings the fuzz tests use.

Everything is synthetic: names are made of generated characters, never real people.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st

from factories import program_document
from rotaguard.domain import MAX_DATE, MIN_DATE

CHAOS = os.environ.get("ROTAGUARD_CHAOS") == "1"
QUICK_PROFILE = "rotaguard-fuzz-quick"
CHAOS_PROFILE = "rotaguard-fuzz-chaos"


def fuzz_settings(quick: int, chaos: int = 1000) -> settings:
    """A few examples under plain `make test`, many under ROTAGUARD_CHAOS=1 (profiles in conftest.py)."""
    return settings(
        settings.get_profile(CHAOS_PROFILE if CHAOS else QUICK_PROFILE), max_examples=chaos if CHAOS else quick
    )


# ---------------------------------------------------------------------------------------- text

SQL_LOOKING = (
    "'; DROP TABLE people;--",
    "Robert'); DROP TABLE assignments;--",
    '" OR 1=1 --',
    "' UNION SELECT * FROM audit_events --",
    "1; SELECT pg_sleep(10)",
    "%",
    "_",
    "\\",
    "$$; DELETE FROM people; $$",
)
PATH_LOOKING = (
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32\\config",
    "~/.ssh/id_rsa",
    "file:///etc/passwd",
    "%2e%2e%2fetc%2fpasswd",
    "rotaguard_../../../etc/passwd",
    "rotaguard_..",
    "/dev/null",
    "/proc/self/environ",
    "NUL",
    "CON",
)
RIGHT_TO_LEFT = ("\u202eevil\u202c", "\u05d3\u05d5\u05d3", "\u0645\u0631\u064a\u0645", "\u200fRLM\u200e")
EMOJI = ("\U0001f469\u200d\u2695\ufe0f", "\U0001fa7a", "\U0001f3e5", "\U0001f1fa\U0001f1f8", "\U0001f44d\U0001f3fd")
# Characters that print as nothing: a name made only of them looks blank.
BLANK_LOOKING_CHARACTERS = (
    " \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180e\u2800\u3164\uffa0\ufe0f\u202a\u202b\u202c\u202d\u202e"
)
CONTROL_CHARACTERS = (
    "".join(map(chr, range(0x00, 0x20))) + "\x7f" + "".join(map(chr, range(0x80, 0xA0))) + "\u2028\u2029"
)
LONE_SURROGATES = ("\ud800", "\udfff", "A\udc00B")


def blank_looking_text() -> st.SearchStrategy[str]:
    return st.text(alphabet=BLANK_LOOKING_CHARACTERS, min_size=0, max_size=12)


def text_with_a_control_character() -> st.SearchStrategy[str]:
    """Visible text with at least one control character somewhere in it (NUL included)."""
    return st.tuples(st.text(max_size=8), st.sampled_from(CONTROL_CHARACTERS), st.text(max_size=8)).map(
        lambda parts: "Name" + parts[0] + parts[1] + parts[2]
    )


def hostile_text() -> st.SearchStrategy[str]:
    """Strings that have broken software before: SQL, paths, RTL, zero-width, emoji, controls, length."""
    return st.one_of(
        st.sampled_from(SQL_LOOKING + PATH_LOOKING + RIGHT_TO_LEFT + EMOJI + LONE_SURROGATES),
        blank_looking_text(),
        text_with_a_control_character(),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
        st.sampled_from((199, 200, 201, 10_000)).map(lambda n: "\u00e9" * n),
        st.sampled_from((64, 65, 5_000)).map(lambda n: "A" * n),
        st.lists(st.sampled_from(EMOJI + RIGHT_TO_LEFT), min_size=1, max_size=6).map("".join),
    )


def visible_names() -> st.SearchStrategy[str]:
    """Names the program must accept and store exactly: visible text with unicode, RTL, emoji, SQL."""
    safe = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
    return st.one_of(
        st.sampled_from(SQL_LOOKING + RIGHT_TO_LEFT[1:] + EMOJI),
        st.tuples(st.sampled_from("ABCXYZ\u00c9\u05d0\u0645\u4e2d\U0001f3e5"), st.text(alphabet=safe, max_size=30)).map(
            lambda parts: (parts[0] + parts[1])[:200]
        ),
        st.just("\u00e9" * 200),
        st.just("  Leading and trailing spaces  "),
    )


# ---------------------------------------------------------------------------------------- dates

FAR_DATES = (
    "0001-01-01",
    "9999-12-31",
    "1899-12-31",
    "2200-01-01",
    str(MIN_DATE),
    str(MAX_DATE),
    "2026-02-30",
    "2026-13-01",
    "2026-3-1",
    "+20000-01-01",
    "-0001-01-01",
    "2026-03-12T00:00:00",
    "20260312",
    "",
)


def date_texts() -> st.SearchStrategy[str]:
    """Date-like text: the far ends of the calendar, impossible days, other spellings."""
    return st.one_of(
        st.sampled_from(FAR_DATES),
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    )


def dates_in_horizon() -> st.SearchStrategy[date]:
    return st.one_of(
        st.sampled_from((MIN_DATE, MAX_DATE - timedelta(days=1), date(2026, 3, 12))), st.dates(MIN_DATE, MAX_DATE)
    )


# ---------------------------------------------------------------------------------------- JSON

HUGE_NUMBERS = (10**9, 2**31, 2**63, -(2**63), 10**30, 10**400, -1, 0, 1e308, -1e-308, 0.5)


def json_values() -> st.SearchStrategy:
    """Any JSON value, with hostile strings and numbers at the leaves."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(HUGE_NUMBERS),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        hostile_text(),
        date_texts(),
    )
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text(), children, max_size=3),
        max_leaves=8,
    )


def _paths(value, prefix=()) -> list[tuple]:
    """Every path into a JSON value (object keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _parent(document, path):
    target = document
    for part in path[:-1]:
        target = target[part]
    return target


@st.composite
def mutated_documents(draw) -> dict:
    """The factories' valid document with one to three fields dropped, replaced or duplicated."""
    document = program_document()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(document, path), path[-1]
        current = parent[key]
        action = draw(st.sampled_from(("drop", "json", "text", "date", "number", "duplicate", "unknown-field")))
        if action == "drop":
            del parent[key]
        elif action == "json":
            parent[key] = draw(json_values())
        elif action == "text":
            parent[key] = draw(hostile_text())
        elif action == "date":
            parent[key] = draw(date_texts())
        elif action == "number":
            parent[key] = draw(st.sampled_from(HUGE_NUMBERS))
        elif action == "duplicate" and isinstance(current, list) and current:
            current.append(copy.deepcopy(draw(st.sampled_from(current))))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(current))
        elif isinstance(current, dict):
            current[draw(hostile_text())] = draw(json_values())
        else:
            parent[key] = draw(json_values())
    return document


@st.composite
def valid_documents(draw, prefix: str) -> dict:
    """Documents the program must import: hostile but allowed names, far but allowed dates.

    ``prefix`` makes every id new, so documents drawn one after another never contradict each
    other in one database (an import adds and updates, it never deletes)."""
    document = program_document()
    renames = {old: f"{prefix}{old}" for old in ("R1-01", "R2-01", "F-01", "C-01", "WARDS", "NIGHT")}

    def rename(value):
        return renames.get(value, value)

    document["program"]["name"] = draw(visible_names())
    document["program"]["timezone"] = draw(
        st.sampled_from(("America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC", "Asia/Kathmandu"))
    )
    document["program"]["block_anchor"] = draw(dates_in_horizon()).isoformat()
    for group in ("people", "staff", "rotations"):
        for item in document[group]:
            item["id"] = rename(item["id"])
            item["name"] = draw(visible_names())
    for person in document["people"]:
        for credential in person["credentials"]:
            if "expires" in credential:
                credential["expires"] = draw(st.sampled_from(("0001-01-01", "9999-12-31", "2027-06-30")))
    # One day near an end of the horizon (a CALL there ends the next day) and the factories' days.
    shift = draw(st.sampled_from((None, MIN_DATE, MAX_DATE - timedelta(days=1), date(1999, 12, 31))))
    offset = (shift - date(2026, 3, 11)) if shift is not None else timedelta(0)
    for assignment in document["assignments"]:
        assignment["person_id"], assignment["rotation_id"] = (
            rename(assignment["person_id"]),
            rename(assignment["rotation_id"]),
        )
        assignment["date"] = (date.fromisoformat(assignment["date"]) + offset).isoformat()
    first_duty = date(2026, 3, 11) + offset
    for absence in document["absences"]:
        absence["person_id"] = rename(absence["person_id"])
        absence["kind"] = draw(st.sampled_from(("vacation", "sick leave", "conference 2026", "other")))
        start, end = date.fromisoformat(absence["start"]) + offset, date.fromisoformat(absence["end"]) + offset
        if end > MAX_DATE:  # at the horizon's end the absence goes before the duties instead
            start, end = first_duty - timedelta(days=9), first_duty - timedelta(days=4)
        absence["start"], absence["end"] = start.isoformat(), end.isoformat()
    return document


def encode(document) -> bytes:
    """JSON bytes as a file would hold them; lone surrogates go out as \\u escapes."""
    try:
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, ensure_ascii=True).encode("utf-8")


# ---------------------------------------------------------------------------------------- CLI


def cli_dates() -> st.SearchStrategy[str]:
    return st.one_of(date_texts(), hostile_text(), st.sampled_from(("2026-03-12", "2026-04-08", "2027-01-11")))


def cli_numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            (
                "0",
                "-1",
                "1",
                "5",
                "3600",
                "3601",
                "604801",
                "1e9",
                "nan",
                "inf",
                "-inf",
                "99999999999999999999999",
                "0x10",
                "1_000",
                "",
            )
        ),
        st.integers().map(str),
        st.floats().map(str),
        hostile_text(),
    )


def cli_paths(base: str) -> st.SearchStrategy[str]:
    """Output and input paths: traversal, system files, missing or unwritable directories, odd names."""
    return st.one_of(
        st.sampled_from(PATH_LOOKING),
        st.sampled_from(
            ("/", "/proc/version", "/nonexistent/dir/out.json", "/proc/1/out.json", "/etc/out.json", "/dev/full")
        ),
        st.sampled_from(
            ("out.json", "a/b/c/out.json", "../escape.json", "dir/", "calendars", "x.ics", "book.xlsx")
        ).map(lambda name: f"{base}/{name}"),
        hostile_text().map(lambda name: f"{base}/{name}"),
        st.just(f"{base}/" + "n" * 300),
    )
