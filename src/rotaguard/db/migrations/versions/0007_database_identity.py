"""the database's identity

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00

One row, written once when the table is created: a random UUID naming this database, a random
secret, and when they were made. Every backup records the UUID in its manifest with a fingerprint
(an HMAC under the secret over the backup's id, file, time, kind, database and program), so that
``backup verify`` and ``backup restore`` refuse a backup of another database, or a manifest renamed
or altered (issue 26, item 3). The secret never leaves the database (and its backups).

A copy of the database (a SQLite file copied, ``CREATE DATABASE ... TEMPLATE``) has the same
identity: the two are one database to the check.
"""

import datetime as dt
import secrets
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    identity = op.create_table(
        "database_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("database_id", sa.String(length=36), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_database_identity_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_identity")),
    )
    now = dt.datetime.now(dt.UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC, as the models' UTCDateTime does
    op.bulk_insert(
        identity,
        [{"id": 1, "database_id": str(uuid.uuid4()), "secret": secrets.token_hex(32), "created_at": now}],
    )


def downgrade() -> None:
    op.drop_table("database_identity")
