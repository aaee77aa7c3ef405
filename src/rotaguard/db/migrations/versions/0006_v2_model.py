"""the v2 model: shift types, block rotations, the rotation plan, requests, holidays, attending
rows, service coverage, people's clinic half day, the program's didactics, year and curriculum

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:30:00

Schedule data is normalised (``rotation_plan``, ``program_requests``, ``holidays``,
``attending_rows``, ``shift_types``); what is read whole and never queried inside (a block
rotation's eligibility, capacity and duty pattern; a service's coverage; the curriculum, the
academic year and the didactics) is JSON.

``assignments`` keeps its v1 column names (``slot``, ``rotation_id``) so backups taken before
this revision restore a date range as before; ``slot`` now holds any shift type's id, so its
CHECK on AM/PM/CALL goes and it is widened to an identifier's 64 characters. A v1 row is
unchanged: its AM, PM and CALL are shift ids.

SQLite recreates ``people``, ``rotations`` and ``assignments`` (batch mode) to change their
CHECK constraints; ``rotaguard.db.migrate`` runs SQLite migrations with foreign-key
enforcement off (dropping a referenced table would otherwise cascade or be refused) and
checks every foreign key before committing. ``audit_events`` is not touched (its triggers
would go with a recreate).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
EMPTY_LIST = sa.text("'[]'")
SHIFT_KINDS = "'half_day', 'day', 'night', 'call', 'call_24', 'clinic', 'didactics', 'home_call'"
SOURCES = "'import', 'manual', 'solver', 'swap'"
CLINIC_COMPLETE = (
    "(clinic_day IS NULL AND clinic_shift IS NULL) OR "
    "(clinic_day IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun') AND clinic_shift IS NOT NULL)"
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "shift_types",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("transition_hours", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(f"kind IN ({SHIFT_KINDS})", name=op.f("ck_shift_types_known_kind")),
        sa.CheckConstraint("hours > 0 AND hours <= 28", name=op.f("ck_shift_types_hours_range")),
        sa.CheckConstraint(
            "transition_hours >= 0 AND transition_hours <= 4", name=op.f("ck_shift_types_transition_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_types")),
    )
    op.create_table(
        "block_rotations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", JSON_DOCUMENT, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_rotations")),
    )
    op.create_table(
        "rotation_plan",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("rotation_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_rotation_plan_end_not_before_start")),
        sa.CheckConstraint(f"source IN ({SOURCES})", name=op.f("ck_rotation_plan_known_source")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_rotation_plan_person_id_people"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["rotation_id"],
            ["block_rotations.id"],
            name=op.f("fk_rotation_plan_rotation_id_block_rotations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["schedule_runs.id"], name=op.f("fk_rotation_plan_run_id_schedule_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_plan")),
        sa.UniqueConstraint("person_id", "start_date", name=op.f("uq_rotation_plan_person_id_start_date")),
    )
    op.create_index("ix_rotation_plan_dates", "rotation_plan", ["start_date", "end_date"], unique=False)
    op.create_index(op.f("ix_rotation_plan_rotation_id"), "rotation_plan", ["rotation_id"], unique=False)
    op.create_table(
        "program_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.String(length=64), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("kind IN ('vacation', 'day_off', 'rotation')", name=op.f("ck_program_requests_known_kind")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_program_requests_end_not_before_start")),
        sa.CheckConstraint(
            "(kind = 'rotation') = (rotation_id IS NOT NULL)", name=op.f("ck_program_requests_rotation_named")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_program_requests_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rotation_id"],
            ["block_rotations.id"],
            name=op.f("fk_program_requests_rotation_id_block_rotations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_requests")),
    )
    op.create_index(op.f("ix_program_requests_person_id"), "program_requests", ["person_id"], unique=False)
    op.create_table(
        "holidays",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_holidays")),
    )
    op.create_table(
        "attending_rows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_attending_rows_end_not_before_start")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_attending_rows_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["rotations.id"], name=op.f("fk_attending_rows_service_id_rotations"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attending_rows")),
        sa.UniqueConstraint(
            "person_id",
            "service_id",
            "start_date",
            "end_date",
            name=op.f("uq_attending_rows_person_id_service_id_start_date_end_date"),
        ),
    )
    with op.batch_alter_table("program_settings") as batch:
        batch.add_column(sa.Column("clinic_service", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("didactics", JSON_DOCUMENT, nullable=False, server_default=EMPTY_LIST))
        batch.add_column(sa.Column("didactics_service", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("academic_year", JSON_DOCUMENT, nullable=True))
        batch.add_column(sa.Column("curriculum", JSON_DOCUMENT, nullable=False, server_default=EMPTY_LIST))
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("clinic_day", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("clinic_shift", sa.String(length=64), nullable=True))
        batch.create_check_constraint(op.f("ck_people_clinic_complete"), CLINIC_COMPLETE)
    with op.batch_alter_table("rotations") as batch:
        batch.add_column(sa.Column("coverage", JSON_DOCUMENT, nullable=False, server_default=EMPTY_LIST))
        batch.drop_constraint(op.f("ck_rotations_known_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_rotations_known_kind"), "kind IN ('session', 'call', 'service')")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_known_slot"), type_="check")
        batch.alter_column(
            "slot", existing_type=sa.String(length=4), type_=sa.String(length=64), existing_nullable=False
        )


def downgrade() -> None:
    # Refused rather than truncating: a duty on a v2 shift cannot be stored in a v1 schema.
    bind = op.get_bind()
    foreign = bind.execute(
        sa.text("SELECT COUNT(*) FROM assignments WHERE slot NOT IN ('AM', 'PM', 'CALL')")
    ).scalar_one()
    services = bind.execute(sa.text("SELECT COUNT(*) FROM rotations WHERE kind = 'service'")).scalar_one()
    if foreign or services:
        raise RuntimeError(
            f"cannot downgrade below 0006: {foreign} assignments on v2 shift types and {services} v2 services "
            "have no v1 form; remove them first"
        )
    with op.batch_alter_table("assignments") as batch:
        batch.alter_column(
            "slot", existing_type=sa.String(length=64), type_=sa.String(length=4), existing_nullable=False
        )
        batch.create_check_constraint(op.f("ck_assignments_known_slot"), "slot IN ('AM', 'PM', 'CALL')")
    with op.batch_alter_table("rotations") as batch:
        batch.drop_constraint(op.f("ck_rotations_known_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_rotations_known_kind"), "kind IN ('session', 'call')")
        batch.drop_column("coverage")
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint(op.f("ck_people_clinic_complete"), type_="check")
        batch.drop_column("clinic_shift")
        batch.drop_column("clinic_day")
    with op.batch_alter_table("program_settings") as batch:
        batch.drop_column("curriculum")
        batch.drop_column("academic_year")
        batch.drop_column("didactics_service")
        batch.drop_column("didactics")
        batch.drop_column("clinic_service")
    op.drop_table("attending_rows")
    op.drop_table("holidays")
    op.drop_index(op.f("ix_program_requests_person_id"), table_name="program_requests")
    op.drop_table("program_requests")
    op.drop_index(op.f("ix_rotation_plan_rotation_id"), table_name="rotation_plan")
    op.drop_index("ix_rotation_plan_dates", table_name="rotation_plan")
    op.drop_table("rotation_plan")
    op.drop_table("block_rotations")
    op.drop_table("shift_types")
