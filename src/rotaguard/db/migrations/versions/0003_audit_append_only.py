"""audit log append-only

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:00:00

Triggers refuse UPDATE and DELETE on ``audit_events`` (and TRUNCATE on PostgreSQL), so the
application, a bug or a careless script can only append. A database superuser can still
switch triggers off; the hash chain and the anchor beside the backups catch what they do.

Restores are unaffected: ``pg_restore --clean`` drops and recreates the table (a DROP fires
no row trigger; the triggers are restored after the data), the SQLite online backup API
copies pages, and re-appending the newer events after a full restore only INSERTs.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only"

POSTGRES_UPGRADE = [
    # CREATE OR REPLACE: a full restore of a backup taken before 0003 drops the table (and its
    # triggers) but leaves the function; upgrading again must not trip over it.
    f"""
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % is refused', TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'audit events are never changed or removed; append a new event instead';
    END;
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    """
    CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    """
    CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
]

POSTGRES_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
]

# SQLite has no TRUNCATE (its DELETE without WHERE fires the DELETE trigger). Note for later
# migrations: a batch ("move and copy") migration of audit_events drops the table and with it
# these triggers; such a migration must create them again.
SQLITE_UPGRADE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_events_no_update
    BEFORE UPDATE ON audit_events
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}: UPDATE is refused');
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_events_no_delete
    BEFORE DELETE ON audit_events
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}: DELETE is refused');
    END
    """,
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_update",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRES_UPGRADE)
    elif dialect == "sqlite":
        _run(SQLITE_UPGRADE)
    else:
        raise NotImplementedError(f"no append-only triggers for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRES_DOWNGRADE)
    elif dialect == "sqlite":
        _run(SQLITE_DOWNGRADE)
