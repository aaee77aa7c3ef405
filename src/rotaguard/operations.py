"""The protected-operations registry: every operation that modifies the schedule tables, its risk,
and what its risk requires; and the read-only operations, which need none of it.

The schedule tables are the program (people, their credentials, staff, rotations, absences,
slot times, settings) and the assignments. Flows and commands look their operation up here,
and tests/test_protected_operations.py proves every flow and every CLI command is listed and
that none that writes the schedule tables gets past its gate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

SCHEDULE_TABLES = (
    "program_settings",
    "slot_times",
    "people",
    "staff",
    "person_credentials",
    "rotations",
    "absences",
    "assignments",
    # v2 (migration 0006): the shift types, the block layer and what the year planner reads.
    "shift_types",
    "block_rotations",
    "rotation_plan",
    "program_requests",
    "holidays",
    "attending_rows",
)
BACKUP_MAX_AGE = dt.timedelta(hours=2)


class Risk(StrEnum):
    SAFE = "safe"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Requirements:
    """What a risk level requires before its operation may write."""

    verified_backup_max_age: dt.timedelta | None
    approval: bool
    typed_confirmation: bool  # the approver types the range: the form shows what will be deleted


REQUIREMENTS: dict[Risk, Requirements] = {
    Risk.SAFE: Requirements(verified_backup_max_age=None, approval=False, typed_confirmation=False),
    Risk.MEDIUM: Requirements(verified_backup_max_age=BACKUP_MAX_AGE, approval=False, typed_confirmation=False),
    Risk.HIGH: Requirements(verified_backup_max_age=BACKUP_MAX_AGE, approval=True, typed_confirmation=False),
    Risk.CRITICAL: Requirements(verified_backup_max_age=BACKUP_MAX_AGE, approval=True, typed_confirmation=True),
}


@dataclass(frozen=True)
class Operation:
    id: str
    risk: Risk
    description: str
    flows: tuple[str, ...] = ()  # Prefect flow names
    commands: tuple[str, ...] = ()  # `rotaguard` command paths
    validates_after_write: bool = False  # post-write compliance validation, restore on failure

    @property
    def requirements(self) -> Requirements:
        return REQUIREMENTS[self.risk]

    @property
    def modifies_schedule(self) -> bool:
        return self.risk is not Risk.SAFE


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "generate",
        Risk.HIGH,
        "solve and publish a date range",
        ("generate-schedule",),
        ("generate",),
        validates_after_write=True,
    ),
    Operation(
        "bulk_assign",
        Risk.HIGH,
        "load assignments prepared elsewhere",
        ("bulk-assign",),
        ("assign",),
        validates_after_write=True,
    ),
    # The block schedule of a year (or from block K on): only the rotation plan's rows are written.
    Operation(
        "plan_year",
        Risk.HIGH,
        "plan the academic year's rotations",
        ("plan-year",),
        ("plan",),
        validates_after_write=True,
    ),
    Operation(
        "clear_range", Risk.CRITICAL, "delete the assignments of a date range", ("clear-assignments",), ("clear",)
    ),
    # request-swap ends by running the execute step: it is gated exactly like execute-swap.
    Operation(
        "execute_swap",
        Risk.MEDIUM,
        "move the duties of an approved swap",
        ("execute-swap", "request-swap"),
        ("swap execute",),
    ),
    Operation(
        "rollback_swap", Risk.MEDIUM, "move an executed swap's duties back", ("rollback-swap",), ("swap rollback",)
    ),
    Operation("restore", Risk.HIGH, "restore a backup, whole or one range", ("restore-backup",), ("backup restore",)),
    # Import adds and updates, never deletes; a verified backup first, no approval (the initial load must run unattended).
    Operation(
        "import_program",
        Risk.MEDIUM,
        "add and update the program and its assignments from a document",
        (),
        ("program import",),
    ),
    # Puts back, from their own verified pre-op backups, the ranges of runs that died mid-write.
    Operation("recover", Risk.MEDIUM, "restore the ranges of interrupted writes", (), ("recover",)),
    Operation("validate", Risk.SAFE, "judge the stored schedule", ("validate-schedule",), ("validate",)),
    Operation("candidates", Risk.SAFE, "rank swap candidates", (), ("swap candidates",)),
    Operation("health", Risk.SAFE, "check the database, backups and services", (), ("health",)),
    Operation(
        "export",
        Risk.SAFE,
        "write the schedule, the program or the year plan to files",
        (),
        ("export", "program export", "plan export"),
    ),
    Operation(
        "read",
        Risk.SAFE,
        "show, list, verify, solve without writing",
        (),
        (
            "program show",
            "program schema",
            "program synth",
            "solve",
            "swap list",
            "audit verify",
            "audit list",
            "backup list",
            "grid",
            "plan show",
            "serve",
            # Stops this home's local Prefect server; no table is touched.
            "stop",
        ),
    ),
)

# Commands that write, but none of the schedule tables: the swap workflow's requests and answers
# (the moves themselves are execute_swap), the backups and their records, and the schema. Each
# description, like an operation's, is what one does in the imperative: refusals read
# "<role> <id> may not <description>" (rotaguard.authorization).
RECORD_COMMANDS = {
    "swap request": "record a swap request",
    "swap accept": "record B's answer (or resume the waiting request-swap run, which executes through its gate)",
    "swap decline": "record B's answer",
    "swap approve": "record a coordinator's decision (or resume the waiting run)",
    "backup create": "write a backup and its record",
    "backup verify": "update a backup's record",
    "backup prune": "delete old backups and their records",
    "backup offsite sync": "copy backups to S3 and update their records",
    "backup offsite fetch": "bring a backup back from S3 and record it (restoring it is the restore operation)",
    "init": "create or migrate the schema",
}
# The nightly backup writes backups, never the schedule tables.
RECORD_FLOWS = {"nightly-backup": "create, copy and prune backups"}


def operation(operation_id: str) -> Operation:
    for candidate in OPERATIONS:
        if candidate.id == operation_id:
            return candidate
    raise KeyError(operation_id)


def for_flow(flow_name: str) -> Operation | None:
    return next((o for o in OPERATIONS if flow_name in o.flows), None)


def for_command(command: str) -> Operation | None:
    return next((o for o in OPERATIONS if command in o.commands), None)
