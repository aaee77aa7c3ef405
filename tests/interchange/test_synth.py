from collections import Counter
from datetime import date, timedelta

import pytest

from rotaguard.domain import MAX_DATE, RuleParams
from rotaguard.errors import InputError
from rotaguard.interchange.document import check_document, document_warnings, dump_document
from rotaguard.interchange.synth import LATEST_START, minimum_faculty, next_block_start, synthesize

START = date(2026, 12, 17)


def test_same_seed_same_document_and_different_seed_differs():
    assert dump_document(synthesize(seed=7, start=START)) == dump_document(synthesize(seed=7, start=START))
    assert dump_document(synthesize(seed=7, start=START)) != dump_document(synthesize(seed=8, start=START))


def test_default_size_is_a_real_block():
    document = synthesize(start=START)
    residents = [p for p in document.people if p.pgy]
    assert len(document.people) == 26 and len(residents) == 18
    assert Counter(p.pgy for p in residents) == {1: 6, 2: 6, 3: 6}
    assert len(document.people) * 28 * 2 == 1456
    assert {r.id for r in document.rotations} == {"WARDS", "CLINIC", "ELECTIVE", "NIGHT"}
    assert all("Resident" in p.name or "Faculty" in p.name for p in document.people)


@pytest.mark.parametrize("seed", range(1, 11))
def test_every_seed_is_coherent(seed):
    document = synthesize(seed=seed, start=START)
    assert check_document(document) == [] and document_warnings(document) == []
    end = START + timedelta(days=27)
    assert document.absences and all(START <= a.start <= a.end <= end for a in document.absences)


@pytest.mark.parametrize("seed", range(1, 11))
def test_capacity_comfortably_exceeds_minimum_staffing(seed):
    """A counting argument the solver issue will make exact: enough eligible people every day."""
    document = synthesize(seed=seed, start=START)
    program = document.to_program()
    rules = RuleParams()
    call = program.rotation("NIGHT")
    for offset in range(28):
        day = START + timedelta(days=offset)
        present = [p for p in program.people if not program.absent(p.id, day)]
        callers = [p for p in present if call.accepts(p) and p.holds("ACLS", day)]
        assert len(callers) >= 3, f"{day}: only {len(callers)} can take call"
        residents = [p for p in present if p.pgy]
        demand = sum(r.residents.min for r in program.rotations if r.kind == "session" and r.runs_on(day, r.slots[0]))
        assert len(residents) - 2 >= demand  # two off post-call
    seniors = [p for p in program.people if call.accepts(p)]
    assert len(seniors) * rules.max_calls_per_window >= 2 * 28


def test_synth_scales_and_checks_its_arguments():
    assert minimum_faculty(120) > minimum_faculty(18)
    big = synthesize(residents=120, faculty=minimum_faculty(120), start=START)
    assert check_document(big) == []
    with pytest.raises(InputError, match="--residents"):
        synthesize(residents=3, start=START)
    with pytest.raises(InputError, match="--faculty"):
        synthesize(residents=120, faculty=8, start=START)


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 11, 22), date(2026, 12, 17)),
        (date(2026, 3, 11), date(2026, 3, 12)),
        (date(2026, 3, 12), date(2026, 4, 9)),
    ],
)
def test_next_block_start(today, expected):
    assert next_block_start(today) == expected


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_the_latest_start_synthesizes_a_coherent_program_and_the_day_after_is_refused(seed):
    document = synthesize(seed=seed, start=LATEST_START)
    assert check_document(document) == []
    latest = max([a.end for a in document.absences] + [c.expires for p in document.people for c in p.credentials])
    assert latest <= MAX_DATE
    with pytest.raises(InputError, match=r"--start: 2197-01-01 is too late"):
        synthesize(seed=seed, start=LATEST_START + timedelta(days=1))
