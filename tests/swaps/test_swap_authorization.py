"""Every role x action x relation against the table the swaps issue states: deny by default."""

import itertools

import pytest

from rotaguard.authorization import AccessRole, Actor
from rotaguard.domain.swaps import DateRange, SwapKind, SwapRequest
from rotaguard.swaps import Action, SwapDenied, authorize
from swapdata import day

SCHEDULED = ("resident", "faculty")
# Written out from the issue text, not from the code: what each role may do, and as whom.
EXPECTED_ALLOWS = {
    *[(role, "request", "person_a") for role in SCHEDULED],
    *[(role, "view", rel) for role in SCHEDULED for rel in ("requester", "person_a", "person_b")],
    *[(role, act, "person_b") for role in SCHEDULED for act in ("accept", "decline")],
    *[(role, "execute", rel) for role in SCHEDULED for rel in ("requester", "person_a", "person_b")],
    *[(role, "rollback", "requester") for role in SCHEDULED],
    *[
        ("coordinator", act, rel)
        for act in ("request", "view", "accept", "decline", "approve", "execute")
        for rel in ("requester", "person_a", "person_b", "other")
    ],
    ("coordinator", "rollback", "requester"),
    *[("admin", act.value, rel) for act in Action for rel in ("requester", "person_a", "person_b", "other")],
}


def _request_for(relation: str, actor_id: str) -> SwapRequest:
    ids = {"requester": "REQ", "person_a": "PA", "person_b": "PB"}
    ids = {name: (actor_id if name == relation else value) for name, value in ids.items()}
    return SwapRequest(
        id="s-1",
        requester_id=ids["requester"],
        kind=SwapKind.ABSORB,
        person_a=ids["person_a"],
        person_b=ids["person_b"],
        range_a=DateRange(start=day(0), end=day(0)),
    )


def test_every_role_action_and_relation_matches_the_table():
    unexpected_allows, unexpected_denies = [], []
    for role, action, relation in itertools.product(AccessRole, Action, ("requester", "person_a", "person_b", "other")):
        actor = Actor(id="ME", name="Someone", role=role)
        decision = authorize(actor, action, _request_for(relation, "ME"))
        key = (role.value, action.value, relation)
        if decision.allowed and key not in EXPECTED_ALLOWS:
            unexpected_allows.append(key)
        if not decision.allowed and key in EXPECTED_ALLOWS:
            unexpected_denies.append(key)
    assert unexpected_allows == [] and unexpected_denies == []


def test_nobody_unknown_is_allowed_anything():
    assert not any(authorize(None, action, _request_for("requester", "ME")).allowed for action in Action)


def test_staff_accepting_for_person_b_is_recorded_as_acting_for_b():
    decision = authorize(
        Actor(id="C", name="C", role=AccessRole.COORDINATOR), Action.ACCEPT, _request_for("other", "C")
    )
    assert decision.allowed and decision.on_behalf_of == "PB"
    own = authorize(Actor(id="PB", name="B", role=AccessRole.RESIDENT), Action.ACCEPT, _request_for("person_b", "PB"))
    assert own.allowed and own.on_behalf_of is None


@pytest.mark.parametrize("actor", ["R2-02", "F-01", "GHOST"])
def test_a_denial_through_the_service_is_audited(swaps, database, actor):
    from rotaguard.db import AuditLog

    with pytest.raises(SwapDenied):
        swaps.request(
            actor_id=actor,
            kind=SwapKind.ABSORB,
            person_a="R2-01",
            person_b="R2-03",
            range_a=DateRange(start=day(0), end=day(0)),
        )
    with database.read() as session:
        events = AuditLog(session).events()
    assert [(e.action, e.actor, e.details["action"]) for e in events] == [("swap.denied", actor, "request")]
