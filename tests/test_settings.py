import pytest
from pydantic import ValidationError

from rotaguard.settings import Settings, normalize_database_url


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("ROTAGUARD_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "given",
    [
        "postgres://u:p@h:5432/db",
        "postgresql://u:p@h:5432/db",
        "postgresql+psycopg2://u:p@h:5432/db",
        "postgresql+psycopg://u:p@h:5432/db",
    ],
)
def test_postgres_urls_use_psycopg3(given):
    assert normalize_database_url(given) == "postgresql+psycopg://u:p@h:5432/db"


def test_sqlite_url_untouched():
    assert normalize_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_default_database_is_sqlite_under_home(monkeypatch, tmp_path):
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'home' / 'rotaguard.db'}"
    assert settings.resolved_backup_dir == tmp_path / "home" / "backups"


def test_a_home_that_is_a_file_is_one_line_for_every_command(monkeypatch, tmp_path, capsys):
    """Issue 26, item 8: ROTAGUARD_HOME naming a file was exit 70 (FileExistsError)."""
    from rotaguard.cli.main import main

    home = tmp_path / "home"
    home.write_text("not a directory\n")
    monkeypatch.setenv("ROTAGUARD_HOME", str(home))
    monkeypatch.delenv("ROTAGUARD_DATABASE_URL", raising=False)
    for command in (["init"], ["health"], ["program", "show"]):
        capsys.readouterr()
        code = main(command)
        err = capsys.readouterr().err
        assert code != 70 and code != 0, (command, code)
        assert (
            err
            == f"rotaguard: error: ROTAGUARD_HOME: {home} is not a directory (RotaGuard keeps its database, backups and server there)\n"
        )
    assert home.read_text() == "not a directory\n"
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "new-home"))
    assert Settings().resolved_home == tmp_path / "new-home"


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("ROTAGUARD_S3_BUCKET", "backups")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.s3_bucket == "backups"


def test_secrets_have_no_defaults():
    settings = Settings()
    assert settings.s3_secret_access_key is None and settings.smtp_password is None
    secret_fields = [name for name in Settings.model_fields if "secret" in name or "password" in name]
    assert secret_fields and all(Settings.model_fields[name].default is None for name in secret_fields)


def test_secrets_are_not_printed(monkeypatch):
    monkeypatch.setenv("ROTAGUARD_S3_ACCESS_KEY_ID", "AKIA-TEST")
    monkeypatch.setenv("ROTAGUARD_S3_SECRET_ACCESS_KEY", "very-secret")
    settings = Settings()
    assert "very-secret" not in repr(settings)
    assert settings.s3_secret_access_key.get_secret_value() == "very-secret"


def test_half_configured_credentials_rejected(monkeypatch):
    monkeypatch.setenv("ROTAGUARD_S3_ACCESS_KEY_ID", "AKIA-TEST")
    with pytest.raises(ValidationError, match="must be set together"):
        Settings()


def test_secret_settings_are_secret_strings_without_defaults():
    from pydantic import SecretStr

    for name in ("database_url", "s3_secret_access_key", "smtp_password", "backup_encryption_key"):
        field = Settings.model_fields[name]
        assert field.annotation == (SecretStr | None) and field.default is None, name


def test_the_database_url_and_its_password_stay_out_of_repr(monkeypatch):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", "postgresql://rotaguard:db-pass-123@db.example/rotaguard")
    settings = Settings()
    assert "db-pass-123" not in repr(settings) and "db-pass-123" not in settings.model_dump_json()
    assert settings.resolved_database_url == "postgresql+psycopg://rotaguard:db-pass-123@db.example/rotaguard"


def test_an_empty_database_url_means_the_embedded_default(monkeypatch, tmp_path):
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path))
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", "")
    assert Settings().resolved_database_url == f"sqlite:///{tmp_path / 'rotaguard.db'}"


def test_backup_encryption_is_off_unless_a_key_is_set(monkeypatch):
    assert Settings().backup_key is None
    monkeypatch.setenv("ROTAGUARD_BACKUP_ENCRYPTION_KEY", "   ")  # docker-compose passes unset as empty
    assert Settings().backup_encryption_key is None and Settings().backup_key is None


def test_a_backup_key_is_the_base64_of_32_bytes(monkeypatch):
    import base64

    key = bytes(range(32))
    monkeypatch.setenv("ROTAGUARD_BACKUP_ENCRYPTION_KEY", base64.b64encode(key).decode())
    settings = Settings()
    assert settings.backup_key == key and base64.b64encode(key).decode() not in repr(settings)


@pytest.mark.parametrize(
    "value, message",
    [
        ("definitely not base64!", "is not base64"),
        ("c2hvcnQ=", "decodes to 5 bytes, AES-256 needs 32"),
        ("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==", "decodes to 37 bytes, AES-256 needs 32"),
    ],
)
def test_a_malformed_backup_key_is_rejected_without_quoting_it(monkeypatch, value, message):
    monkeypatch.setenv("ROTAGUARD_BACKUP_ENCRYPTION_KEY", value)
    with pytest.raises(ValidationError, match=message) as rejected:
        Settings()
    assert value not in str(rejected.value)
