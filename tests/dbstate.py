"""What a database holds, as one comparable value: to prove a failed command wrote nothing."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from rotaguard.db import Database
from rotaguard.db.tables import Base


def table_rows(database: Database) -> dict[str, list]:
    rows: dict[str, list] = {}
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = connection.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [[str(value) for value in row] for row in result]
    return rows


def digest(database: Database) -> str:
    return hashlib.sha256(json.dumps(table_rows(database), sort_keys=True).encode()).hexdigest()
