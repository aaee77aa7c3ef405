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
