"""The production set-up (docker-compose.yml, .env.example, Dockerfile), checked without a Docker engine.

`docker-compose config` parses the file, substitutes the variables and validates the result
without any engine: the five services must resolve as intended, and leaving out any required
variable must stop it with a message naming that variable (``${VAR:?...}``, never a default for
a secret). The files' variable lists and version pins are compared as text. Without the
`docker-compose` command the tests that run it skip loudly, except under CI, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from rotaguard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = {"postgres", "prefect-server", "objectstore", "createbucket", "rotaguard"}
# Every password, key and auth string: required, never defaulted.
SECRETS = {
    "POSTGRES_PASSWORD",
    "ROTAGUARD_DB_PASSWORD",
    "PREFECT_DB_PASSWORD",
    "PREFECT_AUTH_STRING",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MINIO_KMS_SECRET_KEY",
    "ROTAGUARD_S3_ACCESS_KEY_ID",
    "ROTAGUARD_S3_SECRET_ACCESS_KEY",
}
# Optional by nature (e-mail is off without a host): referenced without a default, empty in .env.example.
OPTIONAL_SECRETS = {"ROTAGUARD_SMTP_PASSWORD", "ROTAGUARD_BACKUP_ENCRYPTION_KEY"}
COMPOSE_SECONDS = 60

VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the compose tests must not skip)")
    pytest.skip(f"!!! SKIPPING DOCKER-COMPOSE TESTS: {reason}")


def _references(text: str) -> list[tuple[str, str]]:
    """(name, modifier) of every variable reference; ``$$`` is a literal dollar."""
    found = []
    for match in VARIABLE.finditer(text.replace("$$", "")):
        found.append((match["braced"] or match["bare"], match["modifier"] or ""))
    return found


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: not NAME=value: {line!r}"
            values[name.strip()] = value
    return values


@pytest.fixture(scope="module")
def compose_command() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        _skip_or_fail("no `docker-compose` on PATH (Debian: apt-get install docker-compose)")
    return path


def _config(compose_command: str, env_file: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`docker-compose config` on the repository's file, run from a scratch directory with a clean
    environment (only the env file supplies variables); writes nothing into the repository."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        [compose_command, "-f", str(COMPOSE), "--project-directory", str(ROOT), "--env-file", str(env_file), "config"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMPOSE_SECONDS,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(compose_command: str, tmp_path_factory) -> dict:
    scratch = tmp_path_factory.mktemp("compose")
    result = _config(compose_command, ENV_EXAMPLE, scratch)
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr, result.stderr  # every variable comes from .env.example
    return yaml.safe_load(result.stdout)


def test_config_resolves_the_five_services(resolved: dict) -> None:
    services = resolved["services"]
    assert set(services) == SERVICES
    env_example = _env_example()

    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["environment"]["POSTGRES_PASSWORD"] == env_example["POSTGRES_PASSWORD"]
    init = [volume for volume in postgres["volumes"] if ":/docker-entrypoint-initdb.d/" in volume]
    assert len(init) == 1 and Path(init[0].split(":")[0]).is_file(), postgres["volumes"]
    assert any(volume.endswith(":/var/lib/postgresql/data:rw") for volume in postgres["volumes"])

    server = services["prefect-server"]
    assert server["image"].startswith("prefecthq/prefect:")
    assert server["command"][:3] == ["prefect", "server", "start"] and "0.0.0.0" in server["command"]
    server_env = server["environment"]
    url = server_env["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert url.startswith("postgresql+asyncpg://prefect:") and url.endswith("@postgres:5432/prefect")
    assert server_env["PREFECT_SERVER_API_AUTH_STRING"] == env_example["PREFECT_AUTH_STRING"]
    assert server_env["PREFECT_UI_API_URL"] == env_example["PREFECT_UI_API_URL"]
    assert server["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/api/health" in " ".join(server["healthcheck"]["test"])

    objectstore = services["objectstore"]
    assert objectstore["image"].startswith("minio/minio:")
    assert set(objectstore["environment"]) >= {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_KMS_SECRET_KEY"}
    bucket = services["createbucket"]
    assert bucket["image"].startswith("minio/mc:")
    assert bucket["depends_on"]["objectstore"]["condition"] == "service_healthy"
    script = [volume for volume in bucket["volumes"] if volume.split(":")[1] in " ".join(bucket["entrypoint"])]
    assert len(script) == 1 and Path(script[0].split(":")[0]).is_file(), bucket

    rotaguard = services["rotaguard"]
    assert (
        Path(rotaguard["build"]["context"]) == ROOT
        and (ROOT / rotaguard["build"].get("dockerfile", "Dockerfile")).is_file()
    )
    command = " ".join(rotaguard["command"])
    assert "rotaguard serve" in command and command.index("rotaguard init") < command.index("rotaguard serve")
    env = rotaguard["environment"]
    assert env["ROTAGUARD_DATABASE_URL"].startswith("postgresql://rotaguard:")
    assert env["ROTAGUARD_DATABASE_URL"].endswith("@postgres:5432/rotaguard")
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert env["PREFECT_API_AUTH_STRING"] == server_env["PREFECT_SERVER_API_AUTH_STRING"]
    assert env["ROTAGUARD_S3_ENDPOINT_URL"] == "http://objectstore:9000"
    assert "PREFECT_API_KEY" not in env  # it would take precedence over the auth string
    backups = env["ROTAGUARD_BACKUP_DIR"]
    assert any(volume.split(":")[1] == backups for volume in rotaguard["volumes"]), "backups must be on a volume"
    assert rotaguard["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "prefect-server" in rotaguard["depends_on"]
    # Every ROTAGUARD_ variable is one the settings read (a misspelt one would be ignored silently).
    fields = {f"ROTAGUARD_{name.upper()}" for name in Settings.model_fields}
    assert {name for name in env if name.startswith("ROTAGUARD_")} <= fields


def test_the_resolved_settings_load(resolved: dict) -> None:
    """The rotaguard container's environment, as resolved from .env.example, is valid for Settings
    (an empty optional value such as the SMTP host counts as off, not as a bad value)."""
    env = {
        name: value
        for name, value in resolved["services"]["rotaguard"]["environment"].items()
        if name.startswith("ROTAGUARD_")
    }
    settings = Settings(**{name.removeprefix("ROTAGUARD_").lower(): value for name, value in env.items()})
    assert settings.resolved_database_url.startswith("postgresql+psycopg://rotaguard:")
    assert settings.s3_bucket and not settings.smtp_host


def _required() -> set[str]:
    return {name for name, modifier in _references(COMPOSE.read_text()) if modifier.startswith(":?")}


@pytest.mark.parametrize("name", sorted(_required()))
def test_a_missing_required_variable_stops_config(name: str, compose_command: str, tmp_path: Path) -> None:
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines() if not line.startswith(f"{name}=")]
    env_file = tmp_path / "without.env"
    env_file.write_text("\n".join(lines) + "\n")
    result = _config(compose_command, env_file, tmp_path)
    assert result.returncode != 0, f"config succeeded without {name}"
    # The error ends with this variable's own `:?` message (the text before it quotes the whole block).
    names_it = re.compile(rf": set {name} in \.env \([^)]*\)\s*$")
    assert names_it.search(result.stderr), result.stderr
    # Set but empty is refused the same way (`:?`, not `?`).
    env_file.write_text("\n".join(lines) + f"\n{name}=\n")
    result = _config(compose_command, env_file, tmp_path)
    assert result.returncode != 0 and names_it.search(result.stderr), result.stderr


def test_secrets_are_required_and_never_defaulted() -> None:
    references = _references(COMPOSE.read_text())
    assert SECRETS <= _required()
    for name, modifier in references:
        if name in SECRETS:
            assert modifier.startswith(":?"), f"${{{name}{modifier}}}: a secret must be required (:?)"
        if name in SECRETS | OPTIONAL_SECRETS:
            assert not modifier.startswith((":-", "-", ":+", "+")), f"${{{name}{modifier}}}: no default for a secret"
    assert "PREFECT_API_KEY" not in COMPOSE.read_text()


def test_env_example_lists_exactly_the_variables_the_compose_file_uses() -> None:
    used = {name for name, _ in _references(COMPOSE.read_text())}
    listed = _env_example()
    assert used == set(listed), (
        f"only in docker-compose.yml: {sorted(used - set(listed))}; only in .env.example: {sorted(set(listed) - used)}"
    )
    # Each variable has its own comment right above it.
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert index > 0 and lines[index - 1].startswith("#"), f".env.example: no comment above {line!r}"
    # Secrets are obvious placeholders, never working values.
    for name in SECRETS - {"MINIO_ROOT_USER", "ROTAGUARD_S3_ACCESS_KEY_ID"}:
        assert "change-me" in listed[name], f"{name} in .env.example must be a change-me placeholder"
    assert ":change-me" in listed["PREFECT_AUTH_STRING"]  # user:password
    assert all(listed[name] == "" for name in OPTIONAL_SECRETS)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _prefect_pin() -> SpecifierSet:
    for requirement in _pyproject()["project"]["dependencies"]:
        match = re.fullmatch(r"prefect\s*([<>=!~].*)", requirement.strip())
        if match:
            return SpecifierSet(match[1])
    raise AssertionError("pyproject.toml pins no prefect")


def test_python_and_prefect_versions_agree() -> None:
    dockerfile = DOCKERFILE.read_text().replace("\\\n", " ")  # continuation lines joined
    base = re.search(r"^FROM\s+python:(\d+\.\d+)[-\w.]*\s*$", dockerfile, re.MULTILINE)
    assert base, "the Dockerfile's base image is python:X.Y-..."
    python = base[1]
    prefect_arg = re.search(r"^ARG\s+PREFECT_VERSION=(\S+)\s*$", dockerfile, re.MULTILINE)
    assert prefect_arg and '"prefect==${PREFECT_VERSION}"' in dockerfile, (
        "the image installs the same Prefect as the server"
    )
    assert re.search(r"^RUN pip install \. ", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN .*apt-get install .*postgresql-client", dockerfile, re.MULTILINE), (
        "pg_dump/pg_restore for backups"
    )
    assert re.search(r"^USER\s+(?!root\b|0\b)\S+", dockerfile, re.MULTILINE), "the image runs as a non-root user"
    assert re.search(r'^CMD \["rotaguard", "serve"\]', dockerfile, re.MULTILINE)

    compose = yaml.safe_load(COMPOSE.read_text())
    image = compose["services"]["prefect-server"]["image"]
    tag = re.fullmatch(r"prefecthq/prefect:(\d+\.\d+\.\d+)-python(\d+\.\d+)", image)
    assert tag, image
    assert tag[1] == prefect_arg[1], "the Prefect server and the rotaguard image run the same Prefect"
    assert tag[2] == python, "the Prefect server image and the rotaguard image run the same Python"
    assert Version(tag[1]) in _prefect_pin(), f"prefect {tag[1]} is outside pyproject's {_prefect_pin()}"
    assert Version(python) in SpecifierSet(_pyproject()["project"]["requires-python"])
    assert str(yaml.safe_load((ROOT / "prefect.yaml").read_text())["prefect-version"]) == tag[1]


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", ".rotaguard", ".env"} <= ignored
    assert (
        "README.md" not in ignored and "src" not in ignored and "pyproject.toml" not in ignored
    )  # pip install . needs them
