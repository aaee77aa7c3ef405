from datetime import date

import pytest
from pydantic import ValidationError

from factories import faculty, resident
from rotaguard.domain import Credential, Person, Role


def test_resident_needs_pgy():
    with pytest.raises(ValidationError, match="resident needs a PGY level"):
        Person(id="R1", name="R", role=Role.RESIDENT)


def test_faculty_has_no_pgy():
    with pytest.raises(ValidationError, match="faculty have no PGY level"):
        Person(id="F1", name="F", role=Role.FACULTY, pgy=2)


@pytest.mark.parametrize("pgy, ok", [(0, False), (1, True), (8, True), (9, False)])
def test_pgy_range_boundaries(pgy, ok):
    if ok:
        assert resident(pgy=pgy).pgy == pgy
    else:
        with pytest.raises(ValidationError):
            resident(pgy=pgy)


def test_credential_expiry_is_inclusive():
    person = resident(credentials=(Credential(name="ACLS", expires=date(2026, 6, 30)),))
    assert person.holds("ACLS", date(2026, 6, 30))
    assert not person.holds("ACLS", date(2026, 7, 1))
    assert not person.holds("PALS", date(2026, 1, 1))
    assert person.missing_credentials(("ACLS", "PALS"), date(2026, 7, 1)) == ("ACLS", "PALS")


def test_credential_without_expiry_never_expires():
    assert faculty().holds("BLS", date(2099, 1, 1))


def test_duplicate_credential_rejected():
    with pytest.raises(ValidationError, match="listed twice"):
        resident(credentials=(Credential(name="BLS"), Credential(name="BLS")))


@pytest.mark.parametrize("bad_id", ["", "has space", "semi;colon", "x" * 65, "caf\u00e9"])
def test_ids_are_restricted(bad_id):
    with pytest.raises(ValidationError):
        resident(id=bad_id)


def test_names_reject_control_characters():
    with pytest.raises(ValidationError):
        resident(name="Bad\x00Name")
    assert resident(name="Zoë O'Neil-Smith").name == "Zoë O'Neil-Smith"


def test_people_are_frozen():
    person = resident()
    with pytest.raises(ValidationError):
        person.pgy = 2
