"""The ten deployments ``rotaguard serve`` registers and serves, and that ``prefect.yaml`` repeats.

Each flow takes ONE bounded pydantic model, ``params``. Prefect renders it in the UI as one
nested form (its fields with their defaults and descriptions), and a run created from the UI
or the API sends the whole object: ``{"params": {...}}``. The server merges a run's parameters
over the deployment's defaults key by key at the top level only, so the defaults here are a
complete ``params`` object where one can be (a date range: the next 28-day block as of when
serving started), and only the optional fields where a run must name people or a swap.
Prefect itself is imported here: callers set PREFECT_HOME first (the CLI does).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field

from pydantic import BaseModel

from rotaguard.domain import BLOCK_DAYS
from rotaguard.errors import RotaGuardError


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: its name (the flow's), where the flow lives, and what the UI shows."""

    name: str
    entrypoint: str  # relative to the repository root, as prefect.yaml has it
    params_model: str  # the flow's one parameter's model, in the flow's module
    description: str
    tags: tuple[str, ...] = field(default=("rotaguard",))
    dated: bool = False  # defaults carry the next block's start and end
    nightly: bool = False  # runs by itself on the nightly schedule

    @property
    def module(self) -> str:
        path, _ = self.entrypoint.split(":")
        return path.removeprefix("src/").removesuffix(".py").replace("/", ".")

    @property
    def function(self) -> str:
        return self.entrypoint.split(":")[1]

    @property
    def module_entrypoint(self) -> str:
        """The entrypoint Prefect stores for a served deployment: works from any directory."""
        return f"{self.module}.{self.function}"

    def load_flow(self):
        return getattr(importlib.import_module(self.module), self.function)

    def load_model(self) -> type[BaseModel]:
        return getattr(importlib.import_module(self.module), self.params_model)


SPECS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name="generate-schedule",
        entrypoint="src/rotaguard/flows/generate_schedule.py:generate_schedule",
        params_model="GenerateParams",
        description=(
            "Generate and publish a block schedule safely: the schedule-writes lock, a verified backup, health and "
            "data checks, then the run PAUSES for approval (Resume: switch Approve on and type your staff id in Approver). "
            "Then it solves, writes in one transaction, validates, and restores the backup when a gate fails. "
            "Served by `rotaguard serve`, the default range is the next 28-day block (as of when serving started); "
            "otherwise give start and end."
        ),
        tags=("rotaguard", "writes-schedule"),
        dated=True,
    ),
    DeploymentSpec(
        name="validate-schedule",
        entrypoint="src/rotaguard/flows/validate_schedule.py:validate_schedule",
        params_model="ValidateParams",
        description=(
            "Judge the stored schedule of a date range against every ACGME and institutional rule; the metrics and the "
            "violations are the run's artifacts. Read-only: no backup, no lock, writes nothing. "
            "Served by `rotaguard serve`, the default range is the next 28-day block (as of when serving started); "
            "otherwise give start and end."
        ),
        tags=("rotaguard", "read-only"),
        dated=True,
    ),
    DeploymentSpec(
        name="request-swap",
        entrypoint="src/rotaguard/flows/request_swap.py:request_swap",
        params_model="RequestSwapParams",
        description=(
            "Ask for a swap: give who asks (actor_id), whose duties move (person_a), who takes them (person_b; empty "
            "ranks candidates) and the days (a_start..a_end). The run PAUSES for person B's answer (Resume: switch "
            "Accept on, type your id, a comment) and, when the swap needs it, a coordinator's decision; then it executes."
        ),
        tags=("rotaguard", "writes-schedule", "swaps"),
    ),
    DeploymentSpec(
        name="execute-swap",
        entrypoint="src/rotaguard/flows/execute_swap.py:execute_swap",
        params_model="SwapActionParams",
        description=(
            "Execute an approved swap by its id, as actor_id (a person of the swap or a coordinator): verified backup, "
            "re-check, one-transaction move, audit, e-mail both people. Executing twice changes nothing."
        ),
        tags=("rotaguard", "writes-schedule", "swaps"),
    ),
    DeploymentSpec(
        name="rollback-swap",
        entrypoint="src/rotaguard/flows/rollback_swap.py:rollback_swap",
        params_model="SwapActionParams",
        description=(
            "Roll an executed swap back by its id, as actor_id (the requester or an admin): within 24 hours of its "
            "execution and only if its assignments are unchanged since."
        ),
        tags=("rotaguard", "writes-schedule", "swaps"),
    ),
    DeploymentSpec(
        name="nightly-backup",
        entrypoint="src/rotaguard/flows/nightly_backup.py:nightly_backup",
        params_model="NightlyBackupParams",
        description=(
            "Runs every night (02:00 in the program's time zone unless ROTAGUARD_NIGHTLY_BACKUP_CRON/_TIMEZONE say "
            "otherwise): create and verify a backup, copy backups to S3 when configured, then apply retention. "
            "Deleting backups older than the retention period PAUSES for confirmation (Resume: switch Delete on and "
            "type your staff id); no answer deletes nothing. The run's artifact lists backups kept, deleted and pending off-site."
        ),
        tags=("rotaguard", "backups"),
        nightly=True,
    ),
    DeploymentSpec(
        name="restore-backup",
        entrypoint="src/rotaguard/flows/restore_backup.py:restore_backup",
        params_model="RestoreParams",
        description=(
            "Restore a backup by its id: the whole database (scope full) or the assignments of start..end (scope "
            "assignments). It verifies the backup, takes a fresh pre-restore backup, then PAUSES for approval showing "
            "the row counts per table now and in the backup (Resume: switch Approve on and type your staff id). After the "
            "restore it proves the data equals the backup's, and puts the pre-restore backup back if not."
        ),
        tags=("rotaguard", "writes-schedule", "backups"),
    ),
    DeploymentSpec(
        name="bulk-assign",
        entrypoint="src/rotaguard/flows/bulk_assign.py:bulk_assign",
        params_model="BulkAssignParams",
        description=(
            "Load assignments prepared elsewhere: give them in assignments (person, date YYYY-MM-DD, slot AM/PM/CALL, "
            "rotation, locked) or a JSON/CSV file path readable where the flow runs. Every row is checked first (unknown "
            "people or rotations, absences, eligibility, duplicates) and a new Tier 1 violation refuses the load. Then "
            "a verified backup, and the run PAUSES for approval (Resume: switch Approve on and type your staff id); it "
            "writes in one transaction, validates, and restores the range when validation fails."
        ),
        tags=("rotaguard", "writes-schedule"),
    ),
    DeploymentSpec(
        name="plan-year",
        entrypoint="src/rotaguard/flows/plan_year.py:plan_year",
        params_model="PlanYearParams",
        description=(
            "Plan the academic year's rotations (the block schedule) safely: give the year by its first year "
            "(2027 for 2027-28) and, to re-plan part of it, from_block (earlier blocks stay). The schedule-writes "
            "lock, a verified backup, health, then the curriculum is counted (an infeasible one is refused with "
            "the reason) and the run PAUSES for approval showing the requirement table and what would be replaced "
            "(Resume: switch Approve on and type your staff id). Then it plans, writes the plan rows in one "
            "transaction, validates them with the compliance engine, and restores the plan from the backup when a "
            "gate fails."
        ),
        tags=("rotaguard", "writes-schedule"),
    ),
    DeploymentSpec(
        name="clear-assignments",
        entrypoint="src/rotaguard/flows/clear_assignments.py:clear_assignments",
        params_model="ClearParams",
        description=(
            "CRITICAL: delete the assignments of start..end (optionally only some people; locked ones only with "
            "include_locked). A verified backup first; the run PAUSES showing what will be deleted, per person and "
            "rotation (Resume: switch Approve on, type your staff id and the range exactly as START..END). Anything else "
            "deletes nothing."
        ),
        tags=("rotaguard", "writes-schedule"),
    ),
)


def next_block(today: dt.date) -> tuple[dt.date, dt.date]:
    from rotaguard.interchange.synth import next_block_start

    start = next_block_start(today)
    return start, start + dt.timedelta(days=BLOCK_DAYS - 1)


def static_defaults(spec: DeploymentSpec) -> dict:
    """The optional fields of the flow's model at their defaults (``None`` left out: the UI shows it empty)."""
    model = spec.load_model()
    values = {
        name: info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items()
        if not info.is_required()
    }
    return {"params": {name: value for name, value in values.items() if value is not None}}


def default_parameters(spec: DeploymentSpec, today: dt.date | None = None) -> dict:
    """What the deployment offers by default, JSON-ready: the UI's Quick run sends exactly this.

    A dated flow gets a whole, valid ``params`` (checked through its model here). The swap flows
    get only their optional fields: the people and the swap must be named for each run, and the
    Prefect API refuses a run that leaves them out (its parameter schema) before anything starts.
    """
    params = static_defaults(spec)["params"]
    if not spec.dated:
        return {"params": params}
    start, end = next_block(today or dt.date.today())
    checked = spec.load_model().model_validate({"start": start, "end": end, **params})
    return {"params": checked.model_dump(mode="json", exclude_none=True)}


def nightly_schedule(settings=None, program_timezone: str | None = None):
    """The nightly-backup schedule: ROTAGUARD_NIGHTLY_BACKUP_CRON (default 02:00) in
    ROTAGUARD_NIGHTLY_BACKUP_TIMEZONE, else the stored program's time zone, else UTC."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    from rotaguard.settings import Settings

    settings = settings or Settings()
    timezone = settings.nightly_backup_timezone or program_timezone or "UTC"
    try:
        return CronSchedule(cron=settings.nightly_backup_cron, timezone=timezone)
    except ValidationError as error:
        message = error.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise RotaGuardError(f"ROTAGUARD_NIGHTLY_BACKUP_CRON/_TIMEZONE: {message}") from None


def stored_program_timezone() -> str | None:
    """The time zone of the program in the configured database, when one is stored."""
    from rotaguard.db import Database, ProgramRepository
    from rotaguard.settings import Settings

    database = Database(Settings().resolved_database_url)
    try:
        with database.read() as session:
            program = ProgramRepository(session).load()
        return program.timezone if program is not None else None
    finally:
        database.dispose()


def build_deployments(today: dt.date | None = None, program_timezone: str | None = None) -> list:
    """``flow.to_deployment(...)`` for each spec, in SPECS order."""
    from prefect.types.entrypoint import EntrypointType

    nightly = nightly_schedule(program_timezone=program_timezone)
    return [
        spec.load_flow().to_deployment(
            name=spec.name,
            description=spec.description,
            parameters=default_parameters(spec, today),
            tags=list(spec.tags),
            paused=False,
            enforce_parameter_schema=True,
            schedules=[nightly] if spec.nightly else None,
            # A module path, not a file path relative to where serving started: the installed package runs from anywhere.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for spec in SPECS
    ]


def check_prefect_api() -> str:
    """The configured Prefect API's URL, once it answers; else a one-line reason."""
    from prefect import get_client
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise RotaGuardError(
            "PREFECT_API_URL is not set: serving needs a Prefect server the UI can reach "
            "(`prefect server start`, then export PREFECT_API_URL=http://127.0.0.1:4200/api)"
        )
    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RotaGuardError(f"the Prefect API at {url} is unreachable: {reason}")
    return url


def serve_all() -> None:
    """Make sure of the schedule-writes limit, register the deployments and run their flow runs
    (each in a subprocess that inherits this environment) until stopped."""
    import httpx
    from prefect import serve

    from rotaguard.deployments.limits import ensure_concurrency_limit

    ensure_concurrency_limit()
    try:
        serve(*build_deployments(program_timezone=stored_program_timezone()))
    except httpx.HTTPError as error:
        raise RotaGuardError(
            f"the Prefect API failed while registering or serving the deployments: {type(error).__name__}: {error}"
        ) from None
