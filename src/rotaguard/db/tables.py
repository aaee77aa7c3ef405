"""SQLAlchemy 2 tables. Alembic owns the schema: change these, then add a migration."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class ProgramSettingsRow(Timestamped, Base):
    """The program's own settings: one row (id 1) per database."""

    __tablename__ = "program_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    block_anchor: Mapped[date] = mapped_column(Date, nullable=False)
    rule_overrides: Mapped[dict] = mapped_column(JsonDocument, nullable=False, default=dict)
    # ---- v2 (docs/model.md): program-wide parts that are settings, not schedule rows.
    clinic_service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    didactics: Mapped[list] = mapped_column(JsonDocument, nullable=False, default=list, server_default=text("'[]'"))
    didactics_service: Mapped[str | None] = mapped_column(String(64), nullable=True)
    academic_year: Mapped[dict | None] = mapped_column(JsonDocument, nullable=True)
    curriculum: Mapped[list] = mapped_column(JsonDocument, nullable=False, default=list, server_default=text("'[]'"))


class SlotTimeRow(Base):
    __tablename__ = "slot_times"
    __table_args__ = (
        CheckConstraint("slot IN ('AM', 'PM', 'CALL')", name="known_slot"),
        CheckConstraint("hours > 0 AND hours <= 24", name="hours_range"),
    )

    slot: Mapped[str] = mapped_column(String(4), primary_key=True)
    start_time: Mapped[str] = mapped_column(String(5), nullable=False)
    hours: Mapped[float] = mapped_column(Float, nullable=False)


class PersonRow(Timestamped, Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("role IN ('resident', 'faculty')", name="known_role"),
        CheckConstraint(
            "(role = 'resident' AND pgy BETWEEN 1 AND 8) OR (role = 'faculty' AND pgy IS NULL)",
            name="pgy_matches_role",
        ),
        CheckConstraint(
            "(clinic_day IS NULL AND clinic_shift IS NULL) OR "
            "(clinic_day IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun') AND clinic_shift IS NOT NULL)",
            name="clinic_complete",
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    pgy: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The weekly continuity-clinic half day: both set or neither.
    clinic_day: Mapped[str | None] = mapped_column(String(3), nullable=True)
    clinic_shift: Mapped[str | None] = mapped_column(String(64), nullable=True)


class StaffRow(Timestamped, Base):
    """Coordinators and administrators: they act on anyone's schedule but are never scheduled."""

    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("role IN ('admin', 'coordinator')", name="known_role"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class CredentialRow(Base):
    __tablename__ = "person_credentials"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[date | None] = mapped_column(Date, nullable=True)


class RotationRow(Timestamped, Base):
    __tablename__ = "rotations"
    __table_args__ = (
        CheckConstraint("kind IN ('session', 'call', 'service')", name="known_kind"),
        CheckConstraint("resident_min >= 0 AND resident_min <= resident_max", name="resident_staffing"),
        CheckConstraint("faculty_min >= 0 AND faculty_min <= faculty_max", name="faculty_staffing"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    slots: Mapped[list] = mapped_column(JsonDocument, nullable=False)
    days: Mapped[list] = mapped_column(JsonDocument, nullable=False)
    resident_min: Mapped[int] = mapped_column(Integer, nullable=False)
    resident_max: Mapped[int] = mapped_column(Integer, nullable=False)
    resident_pgy: Mapped[list] = mapped_column(JsonDocument, nullable=False)
    faculty_min: Mapped[int] = mapped_column(Integer, nullable=False)
    faculty_max: Mapped[int] = mapped_column(Integer, nullable=False)
    credentials: Mapped[list] = mapped_column(JsonDocument, nullable=False)
    supervised: Mapped[bool] = mapped_column(Boolean, nullable=False)
    hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    in_house: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    moonlighting: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # v2: staffing per shift type, weekday and PGY group (rotaguard.domain.Coverage); [] is v1's one staffing.
    coverage: Mapped[list] = mapped_column(JsonDocument, nullable=False, default=list, server_default=text("'[]'"))


class AbsenceRow(Base):
    __tablename__ = "absences"
    __table_args__ = (
        UniqueConstraint("person_id", "start_date", "end_date", "kind"),
        CheckConstraint("end_date >= start_date", name="end_not_before_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)


class ScheduleRunRow(Base):
    __tablename__ = "schedule_runs"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="end_not_before_start"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    algorithm: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    metrics: Mapped[dict] = mapped_column(JsonDocument, nullable=False, default=dict)
    backup_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AssignmentRow(Timestamped, Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("person_id", "date", "slot"),
        CheckConstraint("source IN ('import', 'manual', 'solver', 'swap')", name="known_source"),
        Index("ix_assignments_date_slot", "date", "slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    # The shift type's id (v1: AM, PM, CALL); the v1 column name is kept so old backups restore a range.
    slot: Mapped[str] = mapped_column(String(64), nullable=False)
    rotation_id: Mapped[str] = mapped_column(
        ForeignKey("rotations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("schedule_runs.id", ondelete="SET NULL"), nullable=True)


SHIFT_KINDS_SQL = "'half_day', 'day', 'night', 'call', 'call_24', 'clinic', 'didactics', 'home_call'"
SOURCES_SQL = "'import', 'manual', 'solver', 'swap'"


class ShiftTypeRow(Timestamped, Base):
    """A v2 program's shift types; a v1 program has none here (its slots are ``slot_times``)."""

    __tablename__ = "shift_types"
    __table_args__ = (
        CheckConstraint(f"kind IN ({SHIFT_KINDS_SQL})", name="known_kind"),
        CheckConstraint("hours > 0 AND hours <= 28", name="hours_range"),
        CheckConstraint("transition_hours >= 0 AND transition_hours <= 4", name="transition_range"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    start: Mapped[str] = mapped_column(String(5), nullable=False)
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    transition_hours: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    # The document's order: the program lists its shifts in it (exports, reports).
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class BlockRotationRow(Timestamped, Base):
    """What a resident is on for a block. Its eligibility, capacity and duty pattern are one
    JSON definition: the solver and the validator read them whole, nothing queries inside."""

    __tablename__ = "block_rotations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    definition: Mapped[dict] = mapped_column(JsonDocument, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class RotationPlanRow(Timestamped, Base):
    """The block schedule: one row per person and block (or half-block)."""

    __tablename__ = "rotation_plan"
    __table_args__ = (
        UniqueConstraint("person_id", "start_date"),
        CheckConstraint("end_date >= start_date", name="end_not_before_start"),
        CheckConstraint(f"source IN ({SOURCES_SQL})", name="known_source"),
        Index("ix_rotation_plan_dates", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    rotation_id: Mapped[str] = mapped_column(
        ForeignKey("block_rotations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("schedule_runs.id", ondelete="SET NULL"), nullable=True)


class ProgramRequestRow(Timestamped, Base):
    __tablename__ = "program_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('vacation', 'day_off', 'rotation')", name="known_kind"),
        CheckConstraint("end_date >= start_date", name="end_not_before_start"),
        CheckConstraint("(kind = 'rotation') = (rotation_id IS NOT NULL)", name="rotation_named"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    weight: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    rotation_id: Mapped[str | None] = mapped_column(
        ForeignKey("block_rotations.id", ondelete="RESTRICT"), nullable=True
    )


class HolidayRow(Base):
    __tablename__ = "holidays"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)


class AttendingRow(Timestamped, Base):
    """A faculty member attends a service for a range of dates."""

    __tablename__ = "attending_rows"
    __table_args__ = (
        UniqueConstraint("person_id", "service_id", "start_date", "end_date"),
        CheckConstraint("end_date >= start_date", name="end_not_before_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False)
    service_id: Mapped[str] = mapped_column(ForeignKey("rotations.id", ondelete="RESTRICT"), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)


class SwapRequestRow(Base):
    __tablename__ = "swap_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('one_to_one', 'absorb')", name="known_kind"),
        CheckConstraint("a_end >= a_start", name="range_a_ordered"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    requester_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    person_a_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), nullable=False)
    person_b_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), nullable=True)
    a_start: Mapped[date] = mapped_column(Date, nullable=False)
    a_end: Mapped[date] = mapped_column(Date, nullable=False)
    b_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    b_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    details: Mapped[dict] = mapped_column(JsonDocument, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEventRow(Base):
    """Append-only, hash-chained: each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    details: Mapped[dict] = mapped_column(JsonDocument, nullable=False, default=dict)
    # Unique: two writers that read the same tail cannot both extend the chain.
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class BackupRecordRow(Base):
    __tablename__ = "backup_records"
    __table_args__ = (CheckConstraint("status IN ('created', 'verified', 'bad', 'deleted')", name="known_status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    database_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    database_name: Mapped[str] = mapped_column(String(200), nullable=False)
    schema_revision: Mapped[str | None] = mapped_column(String(64), nullable=True)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    manifest: Mapped[dict] = mapped_column(JsonDocument, nullable=False, default=dict)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    offsite_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    offsite_key: Mapped[str | None] = mapped_column(Text, nullable=True)


class OperationLockRow(Base):
    """A named mutex in the database: schedule writers outside Prefect are excluded too."""

    __tablename__ = "operation_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The holding process (rotaguard.db.processes): a holder provably gone is taken over at once.
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DatabaseIdentityRow(Base):
    """Who this database is: one row, written once by migration 0007 (a random UUID and a secret).
    Backups record the UUID and a fingerprint under the secret; verify and restore refuse the
    backups of another database (rotaguard.db.identity)."""

    __tablename__ = "database_identity"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    database_id: Mapped[str] = mapped_column(String(36), nullable=False)
    secret: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
