"""Who may do what with a swap: one table, checked in one place, deny by default."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rotaguard.domain import Program, Role, StaffRole
from rotaguard.domain.swaps import SwapRequest


class AccessRole(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    FACULTY = "faculty"
    RESIDENT = "resident"


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


STAFF = frozenset({AccessRole.ADMIN, AccessRole.COORDINATOR})
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
    **{(role, action): frozenset(Relation) for role in STAFF for action in Action if action is not Action.ROLLBACK},
    (AccessRole.COORDINATOR, Action.ROLLBACK): frozenset({Relation.REQUESTER}),
    (AccessRole.ADMIN, Action.ROLLBACK): frozenset(Relation),
}


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    role: AccessRole
    email: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    on_behalf_of: str | None = None  # staff acting for person B, recorded as such


def resolve_actor(program: Program, actor_id: str) -> Actor | None:
    """The active person or staff member with this id; None for anyone else."""
    for member in program.staff:
        if member.id == actor_id and member.active:
            role = AccessRole.ADMIN if member.role is StaffRole.ADMIN else AccessRole.COORDINATOR
            return Actor(member.id, member.name, role, member.email)
    person = program.people_by_id.get(actor_id)
    if person is not None and person.active:
        role = AccessRole.RESIDENT if person.role is Role.RESIDENT else AccessRole.FACULTY
        return Actor(person.id, person.name, role, person.email)
    return None


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


def authorize(actor: Actor | None, action: Action, request: SwapRequest, *, taker: str | None = None) -> Decision:
    """Allow only what ``GRANTS`` lists for the actor's role and relation to the request."""
    if actor is None:
        return Decision(False, "unknown or inactive actor")
    held = relations(actor, request, taker=taker)
    granted = GRANTS.get((actor.role, action), frozenset())
    if not held & granted:
        how = ", ".join(sorted(r.value for r in held))
        return Decision(False, f"{actor.role.value} {actor.id} ({how}) may not {action.value} swap {request.id}")
    acting_for_b = action in (Action.ACCEPT, Action.DECLINE) and actor.is_staff and Relation.PERSON_B not in held
    return Decision(True, "allowed", on_behalf_of=(request.person_b or taker) if acting_for_b else None)
