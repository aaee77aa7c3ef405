"""Who may do what with a swap: one table, checked in one place, deny by default.

The identities it grants to (``AccessRole``, ``Actor``) are the authorization matrix's
(``rotaguard.authorization``); a refusal reads as the matrix's do: who may not do what, and who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rotaguard.authorization import STAFF_ROLES, AccessRole, Actor
from rotaguard.domain.swaps import SwapRequest


class Action(StrEnum):
    REQUEST = "request"
    VIEW = "view"  # read a request and its ranked candidates
    ACCEPT = "accept"
    DECLINE = "decline"
    APPROVE = "approve"  # decide a needs_approval request
    EXECUTE = "execute"
    ROLLBACK = "rollback"


class Relation(StrEnum):
    """How the actor stands to the swap: the table below grants by role and relation."""

    REQUESTER = "requester"  # asked for it
    PERSON_A = "person_a"  # gives duties away
    PERSON_B = "person_b"  # takes them (or the candidate accepting an open request)
    OTHER = "other"


SCHEDULED = frozenset({AccessRole.RESIDENT, AccessRole.FACULTY})

# (role, action) -> the relations that allow it. Anything not listed is denied.
GRANTS: dict[tuple[AccessRole, Action], frozenset[Relation]] = {
    **{(role, Action.REQUEST): frozenset({Relation.PERSON_A}) for role in SCHEDULED},
    **{
        (role, Action.VIEW): frozenset({Relation.REQUESTER, Relation.PERSON_A, Relation.PERSON_B}) for role in SCHEDULED
    },
    **{(role, Action.ACCEPT): frozenset({Relation.PERSON_B}) for role in SCHEDULED},
    **{(role, Action.DECLINE): frozenset({Relation.PERSON_B}) for role in SCHEDULED},
    **{
        (role, Action.EXECUTE): frozenset({Relation.REQUESTER, Relation.PERSON_A, Relation.PERSON_B})
        for role in SCHEDULED
    },
    **{(role, Action.ROLLBACK): frozenset({Relation.REQUESTER}) for role in SCHEDULED},
    **{
        (role, action): frozenset(Relation)
        for role in STAFF_ROLES
        for action in Action
        if action is not Action.ROLLBACK
    },
    (AccessRole.COORDINATOR, Action.ROLLBACK): frozenset({Relation.REQUESTER}),
    (AccessRole.ADMIN, Action.ROLLBACK): frozenset(Relation),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    on_behalf_of: str | None = None  # staff acting for person B, recorded as such


def relations(actor: Actor, request: SwapRequest, *, taker: str | None = None) -> frozenset[Relation]:
    """``taker``: for an open request, the person accepting it (it has no person B yet)."""
    found = set()
    if actor.id == request.requester_id:
        found.add(Relation.REQUESTER)
    if actor.id == request.person_a:
        found.add(Relation.PERSON_A)
    if actor.id == (request.person_b or taker):
        found.add(Relation.PERSON_B)
    return frozenset(found) or frozenset({Relation.OTHER})


# How a refusal names the actor's relation to the request.
RELATION_WORDS = {Relation.REQUESTER: "requester", Relation.PERSON_A: "person A", Relation.PERSON_B: "person B"}


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def who_may(action: Action) -> str:
    """Whom ``GRANTS`` lets do ``action``, in words: the roles allowed whatever their relation to the
    request, then the relations that allow the other roles (``admin, or the swap's requester``)."""
    by_role = sorted(role.value for role in AccessRole if GRANTS.get((role, action)) == frozenset(Relation))
    by_relation = {
        relation
        for role in AccessRole
        if role.value not in by_role
        for relation in GRANTS.get((role, action), frozenset())
    }
    parts = [_either(by_role)] if by_role else []
    if by_relation:
        parts.append("the swap's " + _either([RELATION_WORDS[r] for r in Relation if r in by_relation]))
    return ", or ".join(parts) or "nobody"


def unknown_actor(actor_id: str | None, what: str, needs: str) -> str:
    """The refusal of an id that names no active person or staff member of the program."""
    named = repr(actor_id) if actor_id else "an unnamed actor"
    return (
        f"{named} is not an active person or staff member of the program, and to {what} needs {needs}: "
        "give your id (--as or ROTAGUARD_ACTOR at the command line, actor_id of a swap flow)"
    )


def _standing(held: frozenset[Relation]) -> str:
    if held == {Relation.OTHER}:
        return "someone it does not concern"
    return "its " + " and ".join(RELATION_WORDS[r] for r in Relation if r in held)


def authorize(
    actor: Actor | None,
    action: Action,
    request: SwapRequest,
    *,
    taker: str | None = None,
    actor_id: str | None = None,
) -> Decision:
    """Allow only what ``GRANTS`` lists for the actor's role and relation to the request.

    ``actor_id``: the id given, named in the refusal when it resolves to no actor."""
    what = f"{action.value} swap {request.id}"
    if actor is None:
        return Decision(False, unknown_actor(actor_id, what, who_may(action)))
    held = relations(actor, request, taker=taker)
    granted = GRANTS.get((actor.role, action), frozenset())
    if not held & granted:
        return Decision(
            False, f"{actor.role.value} {actor.id} may not {what} as {_standing(held)}: that needs {who_may(action)}"
        )
    acting_for_b = action in (Action.ACCEPT, Action.DECLINE) and actor.is_staff and Relation.PERSON_B not in held
    return Decision(True, "allowed", on_behalf_of=(request.person_b or taker) if acting_for_b else None)
