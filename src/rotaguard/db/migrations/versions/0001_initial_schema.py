"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 05:03:59.079736
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"], unique=False)
    op.create_table(
        "backup_records",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("database_kind", sa.String(length=16), nullable=False),
        sa.Column("database_name", sa.String(length=200), nullable=False),
        sa.Column("schema_revision", sa.String(length=64), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("manifest", JSON_DOCUMENT, nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offsite_status", sa.String(length=16), nullable=True),
        sa.Column("offsite_key", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('created', 'verified', 'bad', 'deleted')", name=op.f("ck_backup_records_known_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_records")),
    )
    op.create_index(op.f("ix_backup_records_status"), "backup_records", ["status"], unique=False)
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pgy", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'resident' AND pgy BETWEEN 1 AND 8) OR (role = 'faculty' AND pgy IS NULL)",
            name=op.f("ck_people_pgy_matches_role"),
        ),
        sa.CheckConstraint("role IN ('resident', 'faculty')", name=op.f("ck_people_known_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_table(
        "program_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("block_anchor", sa.Date(), nullable=False),
        sa.Column("rule_overrides", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_program_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_settings")),
    )
    op.create_table(
        "rotations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("slots", JSON_DOCUMENT, nullable=False),
        sa.Column("days", JSON_DOCUMENT, nullable=False),
        sa.Column("resident_min", sa.Integer(), nullable=False),
        sa.Column("resident_max", sa.Integer(), nullable=False),
        sa.Column("resident_pgy", JSON_DOCUMENT, nullable=False),
        sa.Column("faculty_min", sa.Integer(), nullable=False),
        sa.Column("faculty_max", sa.Integer(), nullable=False),
        sa.Column("credentials", JSON_DOCUMENT, nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("in_house", sa.Boolean(), nullable=False),
        sa.Column("moonlighting", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('session', 'call')", name=op.f("ck_rotations_known_kind")),
        sa.CheckConstraint(
            "faculty_min >= 0 AND faculty_min <= faculty_max", name=op.f("ck_rotations_faculty_staffing")
        ),
        sa.CheckConstraint(
            "resident_min >= 0 AND resident_min <= resident_max", name=op.f("ck_rotations_resident_staffing")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotations")),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("metrics", JSON_DOCUMENT, nullable=False),
        sa.Column("backup_id", sa.String(length=64), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_schedule_runs_end_not_before_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
    )
    op.create_index(op.f("ix_schedule_runs_status"), "schedule_runs", ["status"], unique=False)
    op.create_table(
        "slot_times",
        sa.Column("slot", sa.String(length=4), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.CheckConstraint("slot IN ('AM', 'PM', 'CALL')", name=op.f("ck_slot_times_known_slot")),
        sa.CheckConstraint("hours > 0 AND hours <= 24", name=op.f("ck_slot_times_hours_range")),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_slot_times")),
    )
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_absences_end_not_before_start")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_absences_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
        sa.UniqueConstraint(
            "person_id", "start_date", "end_date", "kind", name=op.f("uq_absences_person_id_start_date_end_date_kind")
        ),
    )
    op.create_index(op.f("ix_absences_person_id"), "absences", ["person_id"], unique=False)
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=4), nullable=False),
        sa.Column("rotation_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slot IN ('AM', 'PM', 'CALL')", name=op.f("ck_assignments_known_slot")),
        sa.CheckConstraint(
            "source IN ('import', 'manual', 'solver', 'swap')", name=op.f("ck_assignments_known_source")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_assignments_person_id_people"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["rotation_id"], ["rotations.id"], name=op.f("fk_assignments_rotation_id_rotations"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["schedule_runs.id"], name=op.f("fk_assignments_run_id_schedule_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("person_id", "date", "slot", name=op.f("uq_assignments_person_id_date_slot")),
    )
    op.create_index("ix_assignments_date_slot", "assignments", ["date", "slot"], unique=False)
    op.create_index(op.f("ix_assignments_rotation_id"), "assignments", ["rotation_id"], unique=False)
    op.create_table(
        "person_credentials",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_credentials_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "name", name=op.f("pk_person_credentials")),
    )
    op.create_table(
        "swap_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_a_id", sa.String(length=64), nullable=False),
        sa.Column("person_b_id", sa.String(length=64), nullable=True),
        sa.Column("a_start", sa.Date(), nullable=False),
        sa.Column("a_end", sa.Date(), nullable=False),
        sa.Column("b_start", sa.Date(), nullable=True),
        sa.Column("b_end", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('one_to_one', 'absorb')", name=op.f("ck_swap_requests_known_kind")),
        sa.CheckConstraint("a_end >= a_start", name=op.f("ck_swap_requests_range_a_ordered")),
        sa.ForeignKeyConstraint(
            ["person_a_id"], ["people.id"], name=op.f("fk_swap_requests_person_a_id_people"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["person_b_id"], ["people.id"], name=op.f("fk_swap_requests_person_b_id_people"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_requests")),
    )
    op.create_index(op.f("ix_swap_requests_status"), "swap_requests", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_swap_requests_status"), table_name="swap_requests")
    op.drop_table("swap_requests")
    op.drop_table("person_credentials")
    op.drop_index(op.f("ix_assignments_rotation_id"), table_name="assignments")
    op.drop_index("ix_assignments_date_slot", table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(op.f("ix_absences_person_id"), table_name="absences")
    op.drop_table("absences")
    op.drop_table("slot_times")
    op.drop_index(op.f("ix_schedule_runs_status"), table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_table("rotations")
    op.drop_table("program_settings")
    op.drop_table("people")
    op.drop_index(op.f("ix_backup_records_status"), table_name="backup_records")
    op.drop_table("backup_records")
    op.drop_index(op.f("ix_audit_events_action"), table_name="audit_events")
    op.drop_table("audit_events")
