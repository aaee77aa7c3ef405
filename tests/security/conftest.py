"""Fixtures of the security tests: fresh secrets and a fresh bucket per test."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from secrets_kit import Secrets, admin_client

from factories import dumps, program_document
from rotaguard.backups import BackupStore
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document


def _token(kind: str) -> str:
    return f"{kind}{uuid.uuid4().hex}"


@pytest.fixture
def secrets() -> Secrets:
    return Secrets(
        database_password=_token("DbPw"),
        s3_secret_key=_token("S3Sk"),
        smtp_password=_token("SmtpPw"),
        prefect_auth_string=f"admin:{_token('PfAuth')}",
        backup_key=base64.b64encode(os.urandom(32)).decode(),
    )


@pytest.fixture
def bucket(s3_endpoint) -> str:
    """A fresh bucket on moto (any credentials are accepted there)."""
    name = f"security-{uuid.uuid4().hex[:12]}"
    admin_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(database, tmp_path) -> BackupStore:
    """A backup store over a database holding the factory program."""
    import_document(database, parse_document(dumps(program_document())), actor="test", source="factory")
    return BackupStore(database=database, directory=tmp_path / "backups")
