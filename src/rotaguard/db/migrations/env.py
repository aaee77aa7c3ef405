"""Alembic environment: runs on the connection ``rotaguard.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from rotaguard.db.tables import Base

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most constraints: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
