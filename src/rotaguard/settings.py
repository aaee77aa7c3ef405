"""The one settings object: environment variables prefixed ``ROTAGUARD_``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg2://", "postgresql+psycopg://")


def normalize_database_url(url: str) -> str:
    """Return ``url`` with any PostgreSQL scheme mapped to the psycopg 3 driver."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


class Settings(BaseSettings):
    """RotaGuard's configuration. Secrets have no defaults: unset means the feature is off."""

    model_config = SettingsConfigDict(env_prefix="ROTAGUARD_", extra="ignore", frozen=True)

    home: Path = Field(default=Path(".rotaguard"), description="Working directory for the embedded database and backups")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file under home")
    backup_dir: Path | None = Field(default=None, description="Where backups are written; default: home/backups")
    backup_retention_days: int = Field(default=30, ge=1, le=3650)
    backup_min_keep: int = Field(default=2, ge=2, le=1000)
    nightly_backup_cron: str = Field(default="0 2 * * *", description="When the nightly-backup deployment runs (cron)")
    nightly_backup_timezone: str | None = Field(default=None, description="Its time zone (IANA); default: the program's, else UTC")

    s3_bucket: str | None = None
    s3_prefix: str = "rotaguard/"
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> "Settings":
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("ROTAGUARD_S3_ACCESS_KEY_ID and ROTAGUARD_S3_SECRET_ACCESS_KEY must be set together")
        if self.smtp_username is not None and self.smtp_password is None:
            raise ValueError("ROTAGUARD_SMTP_USERNAME is set but ROTAGUARD_SMTP_PASSWORD is not")
        return self

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{self.resolved_home / 'rotaguard.db'}"

    @property
    def resolved_backup_dir(self) -> Path:
        return (self.backup_dir or self.resolved_home / "backups").expanduser().resolve()
