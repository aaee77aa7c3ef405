"""The one settings object: environment variables prefixed ``ROTAGUARD_``."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg2://", "postgresql+psycopg://")
BACKUP_KEY_BYTES = 32  # AES-256
NEW_KEY_HINT = "create one with: head -c 32 /dev/urandom | base64"


def normalize_database_url(url: str) -> str:
    """Return ``url`` with any PostgreSQL scheme mapped to the psycopg 3 driver."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def decode_backup_key(text: str) -> bytes:
    """The 32 key bytes of a base64 ``ROTAGUARD_BACKUP_ENCRYPTION_KEY``; the error never quotes the value."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"is not base64 ({NEW_KEY_HINT})") from None
    if len(key) != BACKUP_KEY_BYTES:
        raise ValueError(f"decodes to {len(key)} bytes, AES-256 needs {BACKUP_KEY_BYTES} ({NEW_KEY_HINT})")
    return key


class Settings(BaseSettings):
    """RotaGuard's configuration. Secrets have no defaults: unset means the feature is off.

    Every field that can hold a credential is a ``SecretStr`` (the database URL may carry a
    password), so ``repr``, ``str`` and ``model_dump`` show ``**********`` instead of it.
    """

    # hide_input_in_errors: a validation error's text would otherwise quote the offending input,
    # and for a model-level check that input is every setting, database password included.
    model_config = SettingsConfigDict(env_prefix="ROTAGUARD_", extra="ignore", frozen=True, hide_input_in_errors=True)

    home: Path = Field(
        default=Path(".rotaguard"), description="Working directory for the embedded database and backups"
    )
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL (may hold a password); default: SQLite file under home"
    )
    backup_dir: Path | None = Field(default=None, description="Where backups are written; default: home/backups")
    backup_retention_days: int = Field(default=30, ge=1, le=3650)
    backup_min_keep: int = Field(default=2, ge=2, le=1000)
    backup_encryption_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes: off-site copies are encrypted with AES-256-GCM; unset: copies as they are",
    )
    nightly_backup_cron: str = Field(default="0 2 * * *", description="When the nightly-backup deployment runs (cron)")
    nightly_backup_timezone: str | None = Field(
        default=None, description="Its time zone (IANA); default: the program's, else UTC"
    )

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

    @field_validator("home")
    @classmethod
    def _home_is_a_directory(cls, home: Path) -> Path:
        # Checked here so every command says it in one line, before anything tries to write under it.
        path = home.expanduser()
        if path.exists() and not path.is_dir():
            raise ValueError(f"{path} is not a directory (RotaGuard keeps its database, backups and server there)")
        return home

    @field_validator("backup_encryption_key", mode="before")
    @classmethod
    def _empty_key_means_off(cls, value):
        # docker-compose passes an unset optional variable as an empty string.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("backup_encryption_key")
    @classmethod
    def _backup_key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_backup_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> Settings:
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("ROTAGUARD_S3_ACCESS_KEY_ID and ROTAGUARD_S3_SECRET_ACCESS_KEY must be set together")
        if self.smtp_username is not None and self.smtp_password is None:
            raise ValueError("ROTAGUARD_SMTP_USERNAME is set but ROTAGUARD_SMTP_PASSWORD is not")
        return self

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def backup_key(self) -> bytes | None:
        """The backup encryption key's bytes; None when off-site copies go unencrypted."""
        if self.backup_encryption_key is None:
            return None
        return decode_backup_key(self.backup_encryption_key.get_secret_value())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url and self.database_url.get_secret_value():
            return normalize_database_url(self.database_url.get_secret_value())
        return f"sqlite:///{self.resolved_home / 'rotaguard.db'}"

    @property
    def resolved_backup_dir(self) -> Path:
        return (self.backup_dir or self.resolved_home / "backups").expanduser().resolve()
