"""The production services of docker-compose.yml, started natively here (no Docker engine on this
machine): a Prefect server on PostgreSQL (the postgresql+asyncpg URL) behind basic auth,
`rotaguard serve` on PostgreSQL sending the auth string, and an S3 API (moto) for the off-site
copies. A nightly-backup run from its deployment copies the backup off-site, and
`rotaguard health --json` sees every part."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from e2e_processes import prefect_server_process, rotaguard_environment
from served import serving

AUTH_STRING = "coordinator:synthetic-test-password"
PAUSE_OR_FINISH_SECONDS = 180


def _status(url: str, auth: str | None) -> int:
    request = urllib.request.Request(url, method="POST", data=b"{}", headers={"Content-Type": "application/json"})
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def protected_prefect_on_postgres(postgres_server, tmp_path):
    name = postgres_server.create()
    asyncpg_url = postgres_server.url(name).replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)
    home = tmp_path / "prefect-home"
    home.mkdir()
    settings = {"PREFECT_API_DATABASE_CONNECTION_URL": asyncpg_url, "PREFECT_SERVER_API_AUTH_STRING": AUTH_STRING}
    try:
        with prefect_server_process(home, settings) as api_url:
            yield api_url
    finally:
        postgres_server.drop(name)


def test_the_compose_services_work_together_natively(
    protected_prefect_on_postgres, postgres_server, postgres_template, s3_endpoint, tmp_path
):
    from prefect.client.schemas.objects import StateType

    from factories import program_document
    from rotaguard.db import Database
    from rotaguard.interchange.document import parse_document
    from rotaguard.interchange.importer import import_document

    api_url = protected_prefect_on_postgres
    # The server's API refuses a client without the auth string, and takes one with it.
    assert _status(f"{api_url}/flow_runs/filter", None) == 401
    assert _status(f"{api_url}/flow_runs/filter", AUTH_STRING) == 200

    bucket = f"stack-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    s3.create_bucket(Bucket=bucket)
    s3_settings = {
        "ROTAGUARD_S3_BUCKET": bucket,
        "ROTAGUARD_S3_ENDPOINT_URL": s3_endpoint,
        "ROTAGUARD_S3_REGION": "us-east-1",
        "ROTAGUARD_S3_ACCESS_KEY_ID": "synthetic-key",
        "ROTAGUARD_S3_SECRET_ACCESS_KEY": "synthetic-secret",
    }
    name = postgres_server.create(template=postgres_template)
    database_url = postgres_server.url(name)
    database = Database(database_url)
    try:
        import_document(database, parse_document(json.dumps(program_document())), actor="test", source="factory")
        with serving(database_url, api_url, tmp_path, settings=s3_settings, auth_string=AUTH_STRING) as served:
            deployments = served.wait_until_serving()
            nightly = served.run(deployments["nightly-backup"], {})
            served.wait_for(nightly, StateType.COMPLETED, PAUSE_OR_FINISH_SECONDS)
            kind, rows = served.artifacts(nightly)["nightly-backup"]
            (made,) = [row for row in rows if row["action"] == "kept"]
            assert made["off-site"] == "copied"

            # The copy in S3 is the backup byte for byte.
            local = tmp_path / "backups" / f"{made['backup']}.dump"
            stored = s3.get_object(Bucket=bucket, Key=f"rotaguard/{local.name}")["Body"].read()
            assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(local.read_bytes()).hexdigest()

            # `rotaguard health --json` on the same settings sees the database, the backup, S3 and the API.
            env = (
                rotaguard_environment(database_url, api_url, tmp_path)
                | s3_settings
                | {"PREFECT_API_AUTH_STRING": AUTH_STRING}
            )
            rotaguard = str(Path(sys.executable).parent / "rotaguard")
            health = subprocess.run(
                [rotaguard, "health", "--json"], env=env, capture_output=True, text=True, timeout=120
            )
            assert health.returncode == 0, health.stderr
            report = json.loads(health.stdout)
            assert report["ok"] is True and report["prefect_api"]["reachable"] is True
            assert report["last_verified_backup"]["id"] == made["backup"]
            assert report["offsite"]["copies"]["copied"] == 1
            assert AUTH_STRING not in health.stdout + health.stderr
            # Without the auth string the API refuses, and health says so with exit 1.
            env.pop("PREFECT_API_AUTH_STRING")
            refused = subprocess.run(
                [rotaguard, "health", "--json"], env=env, capture_output=True, text=True, timeout=120
            )
            assert refused.returncode == 1 and "prefect_api" in refused.stderr and "401" in refused.stderr
    finally:
        database.dispose()
        postgres_server.drop(name)
