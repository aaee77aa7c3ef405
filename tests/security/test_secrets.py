"""No secret in any output: real operations run with distinctive secrets (a PostgreSQL password,
S3 keys against moto, an SMTP password against a server that demands it, the Prefect auth string,
the backup encryption key), then every place a secret could end up is searched for them:
stdout and stderr, log records, the Prefect runs' logs, artifacts, parameters and states, the
backup files and manifests, the dumps' own metadata, every table (audit details, schedule runs,
backup records), the bucket's objects and the e-mails."""

from __future__ import annotations

import ast
import json
import logging
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from secrets_kit import (
    LoginMailbox,
    PrefectApiStub,
    assert_nothing_leaks,
    bucket_contents,
    s3_environment,
    with_password,
)

from dbstate import table_rows
from factories import dumps, program_document
from rotaguard.db import Database
from rotaguard.domain.swaps import DateRange, SwapKind
from rotaguard.settings import Settings
from rotaguard.swaps import SwapService
from smtp_mailbox import free_port
from swapdata import day, seed

SRC = Path(__file__).resolve().parents[2] / "src" / "rotaguard"
# os.environ["ROTAGUARD_..."], os.environ.get("ROTAGUARD_...") or os.getenv("ROTAGUARD_...") of a credential.
DIRECT_ENVIRONMENT_READ = re.compile(
    r"""(environ\s*(\.get\s*\(|\[)|getenv\s*\()\s*["']ROTAGUARD_\w*(SECRET|PASSWORD|KEY|DATABASE_URL)\w*"""
)


def _clear_rotaguard_environment(monkeypatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("ROTAGUARD_"):
            monkeypatch.delenv(name)


def _files_under(root: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _dump_metadata(root: Path) -> dict[str, str]:
    """What pg_restore reads from each PostgreSQL dump's header and table of contents."""
    pg_restore = shutil.which("pg_restore")
    found = {}
    for dump in sorted(root.rglob("*.dump")):
        if dump.read_bytes()[:5] == b"PGDMP" and pg_restore:
            listing = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True, check=True)
            found[f"pg_restore --list {dump.name}"] = listing.stdout
    return found


def _log_records(caplog) -> dict[str, str]:
    lines = []
    for record in caplog.records:
        lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.exc_text or ''} {record.args!r}")
    return {"log records": "\n".join(lines)}


def _tables(url: str) -> dict[str, str]:
    database = Database(url)
    try:
        return {f"table {name}": json.dumps(rows) for name, rows in table_rows(database).items()}
    finally:
        database.dispose()


# ---------------------------------------------------------------------- the leak check itself can fail


def test_the_leak_check_finds_a_secret_wherever_it_is(secrets):
    url = with_password("postgresql+psycopg://postgres@127.0.0.1:5432/somewhere", secrets.database_password)
    with pytest.raises(AssertionError, match="database password in a message"):
        assert_nothing_leaks({"a message": f"cannot connect to {url}"}, secrets)
    with pytest.raises(AssertionError, match="backup encryption key bytes in a file"):
        assert_nothing_leaks({"a file": b"\x00" + secrets.backup_key_bytes + b"\x00"}, secrets)
    assert_nothing_leaks(
        {"a message": "cannot connect to postgresql+psycopg://postgres:***@127.0.0.1:5432/somewhere"}, secrets
    )


# ---------------------------------------------------------------------- settings


def test_settings_show_no_secret_in_repr_dump_or_errors(monkeypatch, secrets):
    _clear_rotaguard_environment(monkeypatch)
    monkeypatch.setenv(
        "ROTAGUARD_DATABASE_URL", f"postgresql://rotaguard:{secrets.database_password}@db.example:5432/rotaguard"
    )
    monkeypatch.setenv("ROTAGUARD_S3_ACCESS_KEY_ID", "AKIASYNTHETICTEST")
    monkeypatch.setenv("ROTAGUARD_S3_SECRET_ACCESS_KEY", secrets.s3_secret_key)
    monkeypatch.setenv("ROTAGUARD_SMTP_USERNAME", "mailer")
    monkeypatch.setenv("ROTAGUARD_SMTP_PASSWORD", secrets.smtp_password)
    monkeypatch.setenv("ROTAGUARD_BACKUP_ENCRYPTION_KEY", secrets.backup_key)
    settings = Settings()
    assert secrets.database_password in settings.resolved_database_url  # the value is there, only hidden
    assert settings.backup_key == secrets.backup_key_bytes
    shown = {
        "repr": repr(settings),
        "str": str(settings),
        "model_dump": repr(settings.model_dump()),
        "json": settings.model_dump_json(),
    }
    assert_nothing_leaks(shown, secrets)

    # A failing model-level check must not quote its input: that input is every setting.
    monkeypatch.delenv("ROTAGUARD_S3_SECRET_ACCESS_KEY")
    with pytest.raises(ValidationError) as half:
        Settings()
    # A malformed key close to a real one is as secret as the key: not quoted either.
    monkeypatch.setenv("ROTAGUARD_S3_SECRET_ACCESS_KEY", secrets.s3_secret_key)
    monkeypatch.setenv("ROTAGUARD_BACKUP_ENCRYPTION_KEY", secrets.backup_key[:-4])
    with pytest.raises(ValidationError) as malformed:
        Settings()
    assert "backup_encryption_key" in str(malformed.value)
    assert_nothing_leaks(
        {"half-configured S3 error": str(half.value), "malformed key error": str(malformed.value)}, secrets
    )
    assert secrets.backup_key[:-4] not in str(malformed.value)


def test_every_secret_setting_is_a_secret_without_a_default():
    secret_like = [
        name
        for name in Settings.model_fields
        if any(word in name for word in ("secret", "password", "encryption_key", "database_url"))
    ]
    assert set(secret_like) >= {"s3_secret_access_key", "smtp_password", "backup_encryption_key", "database_url"}
    for name in secret_like:
        field = Settings.model_fields[name]
        assert field.annotation == (SecretStr | None), f"{name} is {field.annotation}, not SecretStr | None"
        assert field.default is None, f"{name} has a default"


# ---------------------------------------------------------------------- credentials come from the settings object


def _calls(tree: ast.AST, module: str, names: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == module:
                yield node


def _settings_attributes(node: ast.AST) -> set[str]:
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "settings"
    }


def test_s3_and_smtp_credentials_come_only_from_the_settings_object():
    sources = {path: path.read_text() for path in SRC.rglob("*.py")}
    boto_calls, smtp_calls, logins = [], [], []
    for path, text in sources.items():
        tree = ast.parse(text)
        boto_calls += [(path, call) for call in _calls(tree, "boto3", {"client", "resource", "Session"})]
        smtp_calls += [(path, call) for call in _calls(tree, "smtplib", {"SMTP", "SMTP_SSL", "LMTP"})]
        logins += [
            (path, n)
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "login"
        ]
        # Nobody reads a RotaGuard credential from the environment around the settings object.
        if path.name != "settings.py":
            direct = DIRECT_ENVIRONMENT_READ.search(text)
            assert direct is None, (
                f"{path.relative_to(SRC)} reads {direct.group(0)} from the environment, not from Settings"
            )
    assert [p.name for p, _ in boto_calls] == ["offsite.py"], "boto3 clients are made in backups/offsite.py only"
    assert [p.name for p, _ in smtp_calls] == ["notify.py"] and [p.name for p, _ in logins] == ["notify.py"]
    for path, call in boto_calls + smtp_calls + logins:
        where = f"{path.relative_to(SRC)}:{call.lineno}"
        for value in [*call.args, *(k.value for k in call.keywords)]:
            # No literal credential: every argument is computed, and credentials from settings.
            assert not (
                isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value not in ("s3",)
            ), f"{where}: literal {value.value!r}"
    offsite_tree = ast.parse(sources[SRC / "backups" / "offsite.py"])
    store_class = next(n for n in ast.walk(offsite_tree) if isinstance(n, ast.ClassDef) and n.name == "OffsiteStore")
    init = next(n for n in store_class.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    assert {"s3_access_key_id", "s3_secret_access_key", "s3_endpoint_url", "s3_region"} <= _settings_attributes(init)
    ((_, login),) = logins
    assert _settings_attributes(login) == {"smtp_username", "smtp_password"}


# ---------------------------------------------------------------------- the CLI: backups, off-site copies, health


def test_backup_offsite_and_health_commands_leak_no_secret(
    cli, db_kind, database_url, tmp_path, monkeypatch, caplog, secrets, s3_endpoint, bucket
):
    caplog.set_level(logging.DEBUG)
    secret_url = with_password(database_url, secrets.database_password)
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", secret_url)
    s3_environment(monkeypatch, s3_endpoint, bucket, secrets)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", secrets.prefect_auth_string)
    document = tmp_path / "program.json"
    document.write_text(dumps(program_document()))
    outputs = {}

    def run(*args: str, expect: int = 0):
        result = cli(*args)
        assert result.code == expect, (args, result.err)
        outputs[f"rotaguard {' '.join(args)} ({len(outputs)})"] = result.out + result.err
        return result

    with PrefectApiStub(secrets.prefect_auth_string) as prefect_api:
        monkeypatch.setenv("PREFECT_API_URL", prefect_api.url)
        run("program", "import", str(document))
        run("backup", "create", "--json")
        run("backup", "create")
        # S3 away: the copy is pending and the warning says why, then a sync copies it.
        monkeypatch.setenv("ROTAGUARD_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
        monkeypatch.setattr("rotaguard.backups.offsite.BACKOFF_SECONDS", (0.01, 0.01, 0.01))
        run("backup", "create", "--json")
        run("health", "--json", expect=1)
        monkeypatch.setenv("ROTAGUARD_S3_ENDPOINT_URL", s3_endpoint)
        run("backup", "offsite", "sync", "--json")
        health = json.loads(run("health", "--json").out)
        run("health")
        run("backup", "list", "--json")
        assert prefect_api.seen and all(prefect_api.seen)  # health sent the auth string and it was right
    assert (
        health["ok"] is True and health["offsite"]["copies"]["copied"] == 3 and health["offsite"]["encrypted"] is True
    )
    assert health["prefect_api"]["reachable"] is True

    # Failure paths quote URLs and server messages: a Prefect URL with a password in it that does
    # not answer, a database that does not exist, settings that do not fit together.
    monkeypatch.setenv(
        "PREFECT_API_URL", f"http://admin:{secrets.prefect_auth_string.partition(':')[2]}@127.0.0.1:{free_port()}/api"
    )
    run("health", "--json", expect=1)
    if db_kind == "postgresql":
        monkeypatch.setenv(
            "ROTAGUARD_DATABASE_URL",
            with_password(database_url.rsplit("/", 1)[0] + "/no_such_database", secrets.database_password),
        )
        run("health", expect=1)
        run("backup", "list", expect=1)
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", secret_url)
    monkeypatch.delenv("ROTAGUARD_S3_SECRET_ACCESS_KEY")
    run("backup", "list", expect=1)
    assert (
        "ROTAGUARD_S3_ACCESS_KEY_ID and ROTAGUARD_S3_SECRET_ACCESS_KEY must be set together"
        in list(outputs.values())[-1]
    )

    objects = bucket_contents(s3_endpoint, bucket)
    assert sum(key.endswith(".dump.enc") for key in objects) == 3  # the copies went, sealed
    home = tmp_path / "home"
    assert len(list((home / "backups").glob("*.manifest.json"))) == 3
    assert_nothing_leaks(
        {
            **outputs,
            **_log_records(caplog),
            **_files_under(home),
            **_dump_metadata(home),
            **_tables(database_url),
            **objects,
        },
        secrets,
    )


# ---------------------------------------------------------------------- flows: nightly backup, generation, swap with e-mail


def _prefect_records(flow_run_id) -> dict[str, str]:
    """Everything the Prefect API keeps about a flow run: logs, artifacts, the run (parameters,
    state, its message) and its task runs."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    flow_run_id = uuid.UUID(str(flow_run_id))
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        run = client.read_flow_run(flow_run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    assert logs, f"no logs for flow run {flow_run_id}"
    return {
        f"prefect logs of {flow_run_id}": "\n".join(log.message for log in logs),
        f"prefect artifacts of {flow_run_id}": "\n".join(a.model_dump_json() for a in artifacts),
        f"prefect flow run {flow_run_id}": run.model_dump_json(),
        f"prefect task runs of {flow_run_id}": "\n".join(t.model_dump_json() for t in tasks),
    }


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback only
def test_nightly_backup_generation_and_a_swap_with_e_mail_leak_no_secret(
    prefect_api, database_url, tmp_path, monkeypatch, caplog, secrets, s3_endpoint, bucket
):
    from prefect.settings import PREFECT_API_AUTH_STRING, temporary_settings

    from rotaguard.flows.execute_swap import execute_swap
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
    from rotaguard.flows.nightly_backup import NightlyBackupParams, nightly_backup
    from rotaguard.flows.swap_actions import SwapActionParams

    caplog.set_level(logging.INFO)
    _clear_rotaguard_environment(monkeypatch)
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", with_password(database_url, secrets.database_password))
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", secrets.prefect_auth_string)
    s3_environment(monkeypatch, s3_endpoint, bucket, secrets)
    database = Database(database_url)
    seed(database)
    swap_id = _approved_absorb(database)

    with (
        LoginMailbox("rotaguard-mailer", secrets.smtp_password) as mailbox,
        temporary_settings(updates={PREFECT_API_AUTH_STRING: secrets.prefect_auth_string}),
    ):
        for name, value in {
            "HOST": "127.0.0.1",
            "PORT": str(mailbox.port),
            "STARTTLS": "false",
            "USERNAME": "rotaguard-mailer",
            "PASSWORD": secrets.smtp_password,
            "FROM": "rotaguard@residency.example",
        }.items():
            monkeypatch.setenv(f"ROTAGUARD_SMTP_{name}", value)
        nightly = nightly_backup(NightlyBackupParams())
        generated = generate_schedule(
            GenerateParams(
                start=day(7), end=day(9), auto_approve_as="A-01", timeout_seconds=20, run_id=str(uuid.uuid4())
            )
        )
        swap_state = execute_swap(SwapActionParams(swap_id=swap_id, actor_id="R2-01"), return_state=True)
        deadline = time.monotonic() + 10
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    assert nightly.offsite == "copied"
    assert swap_state.result().status == "executed"
    assert (
        mailbox.logins == [("rotaguard-mailer", True)] and len(mailbox.messages) == 1
    )  # the password was used, and right
    records = {}
    for flow_run_id in (nightly.flow_run_id, generated.flow_run_id, swap_state.state_details.flow_run_id):
        records.update(_prefect_records(flow_run_id))
    tables = _tables(database_url)
    assert json.loads(tables["table schedule_runs"]), "the generation left its run row"
    assert "swap.execute" in tables["table audit_events"]
    mails = {f"e-mail {i}": message.as_string() for i, message in enumerate(mailbox.messages)}
    database.dispose()
    assert_nothing_leaks(
        {
            **records,
            **_log_records(caplog),
            **_files_under(tmp_path / "backups"),
            **_dump_metadata(tmp_path / "backups"),
            **tables,
            **bucket_contents(s3_endpoint, bucket),
            **mails,
        },
        secrets,
    )


def _approved_absorb(database) -> str:
    """R2-01 gives a call night to R2-03, who accepts: ready to execute."""
    swaps = SwapService(database)
    asked = swaps.request(
        actor_id="R2-01",
        kind=SwapKind.ABSORB,
        person_a="R2-01",
        person_b="R2-03",
        range_a=DateRange(start=day(0), end=day(0)),
    )
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    return asked.request.id
