"""Who may run what: one matrix over every command and flow, checked where they start, deny by default.

The identities are the program's own: its staff (admins, coordinators) and people (residents,
faculty), named by id: ``ROTAGUARD_ACTOR`` (or ``--as``) at the command line, the approver's id in
an approval form. RotaGuard does not authenticate them (docs/security.md): the database
credentials and access to the Prefect UI decide who can claim an identity; this matrix decides
what each identity may do, so a form answered by a resident, a stranger or a mistyped id writes
nothing, and the audit log names someone who was allowed to act.

The matrix is keyed by what ``rotaguard.operations`` registers: an operation's id, or the name of
a command or flow that writes only records. tests/security/test_authorization_matrix.py proves
every command and flow has an entry and that each modifying one refuses the identities it must.

The identities themselves (``AccessRole``, ``Actor``, ``resolve_actor``) live here too, below the
swaps: the swap table (``rotaguard.swaps.authorization``) grants by these roles and its relation to
a request, and this matrix names the swap table's actions by value, so that it needs nothing above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rotaguard.domain import Program, Role, StaffRole
from rotaguard.errors import RotaGuardError
from rotaguard.operations import OPERATIONS, RECORD_COMMANDS, RECORD_FLOWS, for_command, for_flow

EX_NOPERM = 77  # sysexits.h: scripts can tell "not allowed" from other failures


class AccessRole(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    FACULTY = "faculty"
    RESIDENT = "resident"


STAFF_ROLES = frozenset({AccessRole.ADMIN, AccessRole.COORDINATOR})


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    role: AccessRole
    email: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


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


class NotAuthorized(RotaGuardError):
    """The acting identity may not do this (exit code 77). Nothing was written."""

    exit_code = EX_NOPERM


@dataclass(frozen=True)
class Permission:
    """Who may run one entry of the matrix.

    ``roles``: the staff roles allowed by role alone. ``swap_action``: allowed by the swap table,
    by role and relation to the request (checked by the swap service, which has the request); the
    value of a ``rotaguard.swaps.authorization.Action``.
    ``anyone``: reads, and the schema, for whoever holds the database credentials. ``bootstrap``:
    also allowed to whoever holds them while the stored program names no active admin (an empty or
    lost database, or a program imported without staff, has nobody to name: the first import, the
    import that adds the staff, a disaster restore, a recovery, the backups and their retention).
    """

    roles: frozenset[AccessRole] = frozenset()
    swap_action: str | None = None
    anyone: bool = False
    bootstrap: bool = False

    @property
    def who(self) -> str:
        if self.anyone:
            return "anyone with the database credentials"
        if self.swap_action is not None:
            return f"the swap table ({self.swap_action}: by role and relation to the request)"
        names = " or ".join(sorted(role.value for role in self.roles))
        return names + (
            " (anyone with the database credentials while the program names no active admin)" if self.bootstrap else ""
        )


def _staff(*roles: AccessRole, bootstrap: bool = False) -> Permission:
    return Permission(roles=frozenset(roles), bootstrap=bootstrap)


def _swap(action: str) -> Permission:
    return Permission(swap_action=action)


ANYONE = Permission(anyone=True)
COORDINATING = (AccessRole.COORDINATOR, AccessRole.ADMIN)

MATRIX: dict[str, Permission] = {
    # Schedule writers (rotaguard.operations): for a flow, the approver is the one who must be allowed.
    "generate": _staff(*COORDINATING),
    "bulk_assign": _staff(*COORDINATING),
    "plan_year": _staff(*COORDINATING),
    "clear_range": _staff(*COORDINATING),
    "execute_swap": _swap("execute"),
    "rollback_swap": _swap("rollback"),
    "restore": _staff(AccessRole.ADMIN, bootstrap=True),
    # An import can add staff, admins included: only an admin may change who the admins are.
    "import_program": _staff(AccessRole.ADMIN, bootstrap=True),
    "recover": _staff(*COORDINATING, bootstrap=True),
    # Reads. Swap candidates are ranked for those the swap table lets view the request.
    "validate": ANYONE,
    "candidates": _swap("view"),
    "health": ANYONE,
    "export": ANYONE,
    "read": ANYONE,
    # Records.
    "swap request": _swap("request"),
    "swap accept": _swap("accept"),
    "swap decline": _swap("decline"),
    "swap approve": _swap("approve"),
    "backup create": _staff(*COORDINATING, bootstrap=True),
    "backup verify": _staff(*COORDINATING, bootstrap=True),
    "backup prune": _staff(AccessRole.ADMIN, bootstrap=True),
    "backup offsite sync": _staff(*COORDINATING, bootstrap=True),
    "backup offsite fetch": _staff(AccessRole.ADMIN, bootstrap=True),
    "init": ANYONE,
    # The schedule runs it; deleting old backups waits for an admin's confirmation.
    "nightly-backup": _staff(AccessRole.ADMIN, bootstrap=True),
}


def subject_for_command(command: str) -> str | None:
    """The matrix key for a ``rotaguard`` command path, or None when it has none."""
    found = for_command(command)
    if found is not None:
        return found.id
    return command if command in RECORD_COMMANDS else None


def subject_for_flow(flow_name: str) -> str | None:
    """The matrix key for a Prefect flow, or None when it has none."""
    found = for_flow(flow_name)
    if found is not None:
        return found.id
    return flow_name if flow_name in RECORD_FLOWS else None


def _description(subject: str) -> str:
    for candidate in OPERATIONS:
        if candidate.id == subject:
            return candidate.description
    return RECORD_COMMANDS.get(subject) or RECORD_FLOWS.get(subject) or subject


def _without_admin(program: Program | None) -> bool:
    return program is None or not any(member.active and member.role is StaffRole.ADMIN for member in program.staff)


def authorize(program: Program | None, actor_id: str, subject: str) -> Actor | None:
    """The actor allowed to do ``subject``; raise NotAuthorized naming who is needed otherwise.

    None when the entry needs no identity (``anyone``, or ``bootstrap`` while no admin is named).
    Entries decided by the swap table are not checked here: the swap service checks them against
    the request itself.
    """
    permission = MATRIX[subject]
    if permission.swap_action is not None:
        raise ValueError(f"{subject} is decided by the swap table, per request")
    actor = resolve_actor(program, actor_id) if program is not None else None
    if permission.anyone or (permission.bootstrap and _without_admin(program)):
        return actor
    what = _description(subject)
    if actor is None:
        raise NotAuthorized(
            f"{actor_id!r} is not an active staff member of the program, and to {what} needs {permission.who}: "
            "give your staff id (ROTAGUARD_ACTOR at the command line, the approver field in a form)"
        )
    if actor.role not in permission.roles:
        raise NotAuthorized(f"{actor.role.value} {actor.id} may not {what}: that needs {permission.who}")
    return actor


def refusal(program: Program | None, actor_id: str, subject: str) -> str | None:
    """Why ``actor_id`` may not do ``subject``, or None when they may."""
    try:
        authorize(program, actor_id, subject)
    except NotAuthorized as refused:
        return str(refused)
    return None


__all__ = [
    "ANYONE",
    "EX_NOPERM",
    "MATRIX",
    "STAFF_ROLES",
    "AccessRole",
    "Actor",
    "NotAuthorized",
    "Permission",
    "authorize",
    "refusal",
    "resolve_actor",
    "subject_for_command",
    "subject_for_flow",
]
