"""``rotaguard health``: failures exit 1 with one line, warnings exit 0, and the generation gate
(``run_checks``) stays passing when there are only warnings. Both databases."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from rotaguard.backups import BackupStatus
from rotaguard.backups import offsite as offsite_module
from rotaguard.backups.manifest import manifest_path, read_manifest, write_manifest
from rotaguard.db import Database
from rotaguard.db.migrate import alembic_config, downgrade, head_revision
from rotaguard.health import run_checks
from rotaguard.settings import Settings

AUTH_STRING = "admin:very-secret-pass"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Health reads these from the environment: start every test without them."""
    for name in (
        "PREFECT_API_URL",
        "PREFECT_PROFILES_PATH",
        "PREFECT_API_AUTH_STRING",
        "PREFECT_API_KEY",
        "ROTAGUARD_S3_BUCKET",
        "ROTAGUARD_S3_ENDPOINT_URL",
        "ROTAGUARD_S3_REGION",
        "ROTAGUARD_S3_ACCESS_KEY_ID",
        "ROTAGUARD_S3_SECRET_ACCESS_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _health(cli, *args: str):
    result = cli("health", "--json", *args)
    return result, json.loads(result.out)


def _checks(document: dict) -> dict:
    return {check["name"]: check for check in document["checks"]}


def _gate(database_url: str) -> list:
    """What the generation flow's check_health task does: it fails on any check with ok=False."""
    database = Database(database_url)
    try:
        return [check for check in run_checks(Settings(), database) if not check.ok]
    finally:
        database.dispose()


def _create_backup(cli) -> str:
    created = cli("backup", "create", "--json")
    assert created.code == 0, created.err
    return json.loads(created.out)["id"]


def _rewrite_manifest(backup_id: str, **update) -> None:
    directory = Settings().resolved_backup_dir
    manifest = read_manifest(manifest_path(directory / f"{backup_id}.dump"))
    write_manifest(manifest.model_copy(update=update), directory)


# ---------------------------------------------------------------------- backups


def test_no_backup_is_a_warning_and_exits_zero(cli, database_url):
    result, document = _health(cli)
    assert result.code == 0 and result.err == ""
    assert document["ok"] is True and document["warnings"] == ["last_backup"]
    assert document["last_verified_backup"] is None
    assert document["backups"] == {"total": 0, "unverified": 0, "verified": 0, "bad": 0}
    last = _checks(document)["last_backup"]
    assert (last["ok"], last["warning"], last["status"]) == (True, True, "WARN") and "no verified backup" in last[
        "detail"
    ]
    assert document["database"]["reachable"] is True and document["database"]["kind"] in ("sqlite", "postgresql")
    assert document["schema"]["current"] == document["schema"]["head"] == head_revision()
    assert document["offsite"]["enabled"] is False and "off-site copies are off" in document["offsite"]["detail"]
    assert document["prefect_api"]["configured"] is False
    assert document["prefect_api"]["detail"] == (
        "not configured: the CLI runs flows on this home's local Prefect server, started on first use"
    )
    human = cli("health")
    assert human.code == 0 and "WARN" in human.out and "FAIL" not in human.out
    assert _gate(database_url) == []


def test_a_missing_backup_directory_is_created_private(cli):
    directory = Settings().resolved_backup_dir
    if directory.exists():
        directory.rmdir()
    result, document = _health(cli)
    assert result.code == 0 and _checks(document)["backup_dir"]["ok"] is True
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_fresh_verified_backup_is_reported_with_its_age(cli, database_url):
    backup_id = _create_backup(cli)
    result, document = _health(cli)
    assert result.code == 0 and document["ok"] is True and document["warnings"] == []
    last = document["last_verified_backup"]
    assert last["id"] == backup_id and 0 <= last["age_hours"] < 1
    assert dt.datetime.fromisoformat(last["created_at"]).tzinfo is not None
    assert document["backups"] == {"total": 1, "unverified": 0, "verified": 1, "bad": 0}
    assert _checks(document)["last_backup"]["status"] == "ok"
    assert "WARN" not in cli("health").out


def test_a_backup_older_than_26_hours_is_a_warning_not_a_gate_failure(cli, database_url):
    backup_id = _create_backup(cli)
    _rewrite_manifest(backup_id, created_at=dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=30))
    result, document = _health(cli)
    assert result.code == 0 and document["ok"] is True and document["warnings"] == ["last_backup"]
    assert document["last_verified_backup"]["id"] == backup_id
    assert 29.9 < document["last_verified_backup"]["age_hours"] < 31
    assert "older than 26 h" in _checks(document)["last_backup"]["detail"]
    assert _gate(database_url) == []


def test_bad_backups_are_counted_and_a_bad_newest_warns(cli, database_url):
    good = _create_backup(cli)
    bad = _create_backup(cli)
    _rewrite_manifest(bad, status=BackupStatus.BAD, failure="sha256: synthetic damage")
    result, document = _health(cli)
    assert result.code == 0 and document["warnings"] == ["last_backup"]
    assert document["backups"]["bad"] == 1 and document["backups"]["verified"] == 1
    assert document["last_verified_backup"]["id"] == good
    detail = _checks(document)["last_backup"]["detail"]
    assert "1 bad" in detail and f"{bad} failed verification" in detail
    assert _gate(database_url) == []


# ---------------------------------------------------------------------- schema


def test_a_schema_behind_head_fails(cli, database_url):
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    database = Database(database_url)
    try:
        downgrade(database, previous)
    finally:
        database.dispose()
    result, document = _health(cli)
    assert result.code == 1
    assert (
        result.err
        == f"rotaguard: error: unhealthy: schema: at {previous}, code expects {head_revision()}: run `rotaguard init`\n"
    )
    assert document["ok"] is False
    assert (document["schema"]["current"], document["schema"]["head"]) == (previous, head_revision())
    assert [check.name for check in _gate(database_url)] == ["schema"]


# ---------------------------------------------------------------------- off-site


def _configure_s3(monkeypatch, endpoint: str) -> None:
    for name, value in {
        "ROTAGUARD_S3_BUCKET": "rotaguard-health-test",
        "ROTAGUARD_S3_ENDPOINT_URL": endpoint,
        "ROTAGUARD_S3_REGION": "us-east-1",
        "ROTAGUARD_S3_ACCESS_KEY_ID": "synthetic-test-key",
        "ROTAGUARD_S3_SECRET_ACCESS_KEY": "synthetic-test-secret",
    }.items():
        monkeypatch.setenv(name, value)


def test_an_unreachable_s3_bucket_fails_and_pending_copies_are_counted(cli, database_url, monkeypatch):
    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    _configure_s3(monkeypatch, f"http://127.0.0.1:{_free_port()}")
    created = cli("backup", "create", "--json")
    assert created.code == 0 and json.loads(created.out)["offsite"] == "pending"
    result, document = _health(cli)
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith("rotaguard: error: unhealthy: s3: bucket rotaguard-health-test unreachable")
    offsite = document["offsite"]
    assert (offsite["enabled"], offsite["reachable"], offsite["awaiting_copy"]) == (True, False, 1)
    assert offsite["copies"] == {"none": 0, "pending": 1, "copied": 0}
    assert offsite["ok"] is True and offsite["warning"] is True  # the failure is the s3 check's
    assert _checks(document)["s3"]["ok"] is False


def test_pending_copies_with_a_reachable_bucket_only_warn(cli, database_url, monkeypatch):
    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    _configure_s3(monkeypatch, f"http://127.0.0.1:{_free_port()}")
    assert cli("backup", "create").code == 0  # the copy stays pending
    monkeypatch.setattr(offsite_module.OffsiteStore, "reachable", lambda self: None)  # the bucket is back
    result, document = _health(cli)
    assert result.code == 0 and document["ok"] is True and document["warnings"] == ["offsite"]
    assert document["offsite"]["reachable"] is True and document["offsite"]["copies"]["pending"] == 1
    assert "rotaguard backup offsite sync" in document["offsite"]["detail"]
    assert _gate(database_url) == []


# ---------------------------------------------------------------------- Prefect API


def test_an_unreachable_prefect_api_fails_in_one_line(cli, database_url, monkeypatch):
    url = f"http://127.0.0.1:{_free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    result, document = _health(cli)
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith(f"rotaguard: error: unhealthy: prefect_api: the Prefect API at {url} is unreachable: ")
    assert document["prefect_api"]["configured"] is True and document["prefect_api"]["reachable"] is False
    assert [check.name for check in _gate(database_url)] == ["prefect_api"]


def test_credentials_in_the_prefect_url_are_not_shown(cli, monkeypatch):
    port = _free_port()
    monkeypatch.setenv("PREFECT_API_URL", f"http://someone:url-password@127.0.0.1:{port}/api")
    result, document = _health(cli)
    assert result.code == 1 and "url-password" not in result.out + result.err
    assert document["prefect_api"]["url"] == f"http://127.0.0.1:{port}/api"


class _PrefectHealth(BaseHTTPRequestHandler):
    """Answers as a Prefect server does: GET /api/health with ``true`` to anyone, GET /api/admin/version
    with the version, or 401 without the expected auth."""

    received: list
    expected_authorization: str | None

    def do_GET(self):
        type(self).received.append((self.path, self.headers.get("Authorization")))
        if self.path not in ("/api/health", "/api/admin/version"):
            self.send_response(404)
            self.end_headers()
            return
        protected = self.path != "/api/health"
        if (
            protected
            and self.expected_authorization is not None
            and self.headers.get("Authorization") != self.expected_authorization
        ):
            self.send_response(401)
            self.end_headers()
            return
        body = b"true" if self.path == "/api/health" else b'"3.8.8"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def prefect_health_server():
    """A tiny HTTP server on 127.0.0.1; returns (base api url, handler class to configure)."""
    handler = type("Handler", (_PrefectHealth,), {"received": [], "expected_authorization": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_reachable_prefect_api_passes(cli, database_url, monkeypatch, prefect_health_server):
    url, handler = prefect_health_server
    monkeypatch.setenv("PREFECT_API_URL", url)
    result, document = _health(cli)
    assert result.code == 0, result.err
    prefect = document["prefect_api"]
    assert (prefect["ok"], prefect["configured"], prefect["reachable"], prefect["url"]) == (True, True, True, url)
    assert handler.received == [("/api/admin/version", None)]
    assert "Prefect 3.8.8" in prefect["detail"]
    assert _gate(database_url) == []


def test_the_prefect_auth_string_is_sent_as_basic_auth_and_never_shown(cli, monkeypatch, prefect_health_server):
    url, handler = prefect_health_server
    expected = "Basic " + base64.b64encode(AUTH_STRING.encode()).decode()
    handler.expected_authorization = expected
    monkeypatch.setenv("PREFECT_API_URL", url)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    result, document = _health(cli)
    human = cli("health")
    assert result.code == 0 and human.code == 0, result.err
    assert document["prefect_api"]["reachable"] is True
    assert [authorization for _, authorization in handler.received] == [expected, expected]
    for text in (result.out, result.err, human.out, human.err):
        assert AUTH_STRING not in text and expected.split()[1] not in text


def test_a_wrong_prefect_auth_string_fails(cli, monkeypatch, prefect_health_server):
    url, handler = prefect_health_server
    handler.expected_authorization = "Basic " + base64.b64encode(AUTH_STRING.encode()).decode()
    monkeypatch.setenv("PREFECT_API_URL", url)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "admin:wrong-pass")
    result, document = _health(cli)
    assert result.code == 1 and result.err.count("\n") == 1
    assert f"prefect_api: the Prefect API at {url} answered HTTP 401 to /admin/version" in result.err
    assert "wrong-pass" not in result.out + result.err
    assert document["prefect_api"]["status_code"] == 401


def test_a_prefect_api_set_with_prefect_config_set_is_checked_with_its_auth(
    cli, database_url, monkeypatch, prefect_health_server, tmp_path
):
    """Nothing in the environment: the URL and the auth string are in the Prefect profile that
    `prefect config set` writes (under the PREFECT_HOME the flows use), and health uses them."""
    url, handler = prefect_health_server
    expected = "Basic " + base64.b64encode(AUTH_STRING.encode()).decode()
    handler.expected_authorization = expected
    home = tmp_path / "prefect-home"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    configured = subprocess.run(
        [
            str(Path(sys.executable).parent / "prefect"),
            "config",
            "set",
            f"PREFECT_API_URL={url}",
            f"PREFECT_API_AUTH_STRING={AUTH_STRING}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert configured.returncode == 0, configured.stderr
    assert url in (home / "profiles.toml").read_text()
    result, document = _health(cli)
    assert result.code == 0, result.err
    prefect = document["prefect_api"]
    assert (prefect["configured"], prefect["reachable"], prefect["url"]) == (True, True, url)
    assert handler.received == [("/api/admin/version", expected)]
    assert AUTH_STRING not in result.out + result.err
    handler.expected_authorization = "Basic " + base64.b64encode(b"admin:another-pass").decode()
    refused, document = _health(cli)
    assert refused.code == 1 and "answered HTTP 401 to /admin/version" in refused.err
    assert AUTH_STRING not in refused.out + refused.err
