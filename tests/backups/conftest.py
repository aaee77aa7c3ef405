import pytest

from factories import dumps, program_document
from rotaguard.backups import BackupStore
from rotaguard.db import Database
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document


@pytest.fixture
def seeded_database(database):
    import_document(database, parse_document(dumps(program_document())), actor="test", source="factory")
    return database


@pytest.fixture
def store(seeded_database, tmp_path) -> BackupStore:
    return BackupStore(database=seeded_database, directory=tmp_path / "backups")


@pytest.fixture
def fresh_database(database_url):
    """Another handle on the same database (a store's engine may dispose its own)."""
    db = Database(database_url)
    yield db
    db.dispose()
