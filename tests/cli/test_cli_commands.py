"""Every command: its --json output, and a one-line reason with a non-zero exit on failure."""

import json
import os
import subprocess
import sys
from pathlib import Path

from factories import dumps, program_document
from rotaguard.db.migrate import head_revision

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_init_is_idempotent_and_reports_json(cli, empty_database_url, monkeypatch):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", empty_database_url)
    first = cli("init", "--json")
    assert first.code == 0
    assert json.loads(first.out)["schema_before"] is None and json.loads(first.out)["schema"] == head_revision()
    second = cli("init")
    assert second.code == 0 and "up to date" in second.out


def test_health_passes_on_an_initialised_database(cli):
    result = cli("health", "--json")
    assert result.code == 0
    checks = {c["name"]: c for c in json.loads(result.out)["checks"]}
    assert set(checks) == {"database", "schema", "audit", "backup_dir", "last_backup", "offsite", "prefect_api"}
    assert all(c["ok"] for c in checks.values())


def test_health_fails_on_an_uninitialised_database(cli, empty_database_url, monkeypatch):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", empty_database_url)
    result = cli("health", "--json")
    assert result.code == 1
    assert result.err.strip() == "rotaguard: error: unhealthy: schema: not initialised: run `rotaguard init`"
    assert json.loads(result.out)["ok"] is False  # one JSON document: the checks


def test_health_fails_on_unreachable_database(cli, monkeypatch):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nowhere")
    result = cli("health")
    assert result.code == 1
    assert (
        result.err.startswith("rotaguard: error: unhealthy: database: cannot connect") and result.err.count("\n") == 1
    )


def test_health_fails_when_backup_dir_is_not_writable(cli, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(blocker / "backups"))
    result = cli("health")
    assert result.code == 1 and "backup_dir" in result.err and "not writable" in result.err


def test_commands_refuse_an_uninitialised_database(cli, empty_database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", empty_database_url)
    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    for args in (["program", "import", str(path)], ["program", "export"], ["program", "show"], ["audit", "verify"]):
        result = cli(*args)
        assert result.code == 1 and "not initialised: run `rotaguard init`" in result.err, args


def test_program_show_summarises(cli, tmp_path):
    path = tmp_path / "p.json"
    path.write_text((EXAMPLES / "synthetic-program.json").read_text())
    assert cli("program", "import", str(path)).code == 0
    summary = json.loads(cli("program", "show", "--json").out)
    assert (summary["residents"], summary["faculty"], summary["person_half_days_per_block"]) == (18, 8, 1456)
    assert summary["residents_by_pgy"] == {"PGY-1": 6, "PGY-2": 6, "PGY-3": 6}
    human = cli("program", "show")
    assert human.code == 0 and "18 residents" in human.out and "WARDS" in human.out


def test_program_synth_writes_a_file_and_validates_arguments(cli, tmp_path):
    out = tmp_path / "deep" / "synth.json"
    result = cli("program", "synth", "--seed", "3", "--start", "2026-12-17", "--out", str(out), "--json")
    assert result.code == 0 and json.loads(result.out)["people"] == 26
    assert json.loads(out.read_text())["format"] == "rotaguard-program/1"
    bad = cli("program", "synth", "--start", "17/12/2026")
    assert bad.code == 2 and bad.err.strip() == "rotaguard: error: --start: '17/12/2026' is not a date (YYYY-MM-DD)"
    too_few = cli("program", "synth", "--residents", "2")
    assert too_few.code == 2 and "--residents: must be 8-600, got 2" in too_few.err
    not_a_number = cli("program", "synth", "--residents", "many")
    assert not_a_number.code == 2 and "Invalid value for '--residents'" in not_a_number.err


def test_usage_errors_are_one_line(cli):
    result = cli("frobnicate")
    assert (
        result.code == 2 and result.err == "rotaguard: error: No such command 'frobnicate'. (see `rotaguard --help`)\n"
    )
    missing = cli("export", "--start", "2026-01-01")
    assert missing.code == 2 and missing.err.count("\n") == 1 and "--end" in missing.err


def test_failure_with_json_also_prints_json(cli, tmp_path):
    result = cli("program", "import", str(tmp_path / "missing.json"), "--json")
    assert result.code == 2
    payload = json.loads(result.out)
    assert payload["ok"] is False and payload["problems"][0]["message"] == "no such file"


def test_bad_settings_are_one_line(cli, monkeypatch):
    monkeypatch.setenv("ROTAGUARD_SMTP_USERNAME", "mailer")
    result = cli("health")
    assert result.code == 1
    assert (
        result.err == "rotaguard: error: settings: ROTAGUARD_SMTP_USERNAME is set but ROTAGUARD_SMTP_PASSWORD is not\n"
    )


def test_export_to_unwritable_path_is_one_line(cli, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    cli("program", "import", str(path))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("program", "export", "--out", str(blocker / "sub" / "out.json"))
    assert result.code == 1 and result.err.startswith("rotaguard: error: cannot write") and result.err.count("\n") == 1


def test_real_console_script_end_to_end(database_url, tmp_path):
    """The installed entry point, in a subprocess: exit codes and stderr exactly as a user sees them."""
    env = {**os.environ, "ROTAGUARD_DATABASE_URL": database_url, "ROTAGUARD_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "rotaguard"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "rotaguard-program/1", "program": {"name": "x"}, "people": [{"id": "a b"}]}')
    refused = subprocess.run(
        [*command, "program", "import", str(bad)], env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0] == f"rotaguard: error: {bad}: 3 problems, nothing was written"
    assert "Traceback" not in refused.stderr
    good = tmp_path / "good.json"
    good.write_text(dumps(program_document()))
    imported = subprocess.run(
        [*command, "program", "import", str(good), "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["changes"]["people"]["created"] == 3
