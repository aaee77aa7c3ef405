"""Helpers of the security tests: distinctive secrets, an SMTP server that demands a login, S3
settings and contents, and one assertion that names every place a secret turned up."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email import message_from_bytes

import boto3
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import make_url

from smtp_mailbox import free_port


@dataclass(frozen=True)
class Secrets:
    """Values no output could contain by chance: each is a fresh random token."""

    database_password: str
    s3_secret_key: str
    smtp_password: str
    prefect_auth_string: str
    backup_key: str  # base64 of 32 random bytes, as ROTAGUARD_BACKUP_ENCRYPTION_KEY holds it

    @property
    def backup_key_bytes(self) -> bytes:
        return base64.b64decode(self.backup_key)

    def needles(self) -> dict[str, str | bytes]:
        """Every form a secret could leak in: text, and the raw key bytes in binary files."""
        return {
            "database password": self.database_password,
            "S3 secret key": self.s3_secret_key,
            "SMTP password": self.smtp_password,
            "Prefect auth string": self.prefect_auth_string,
            "Prefect auth password": self.prefect_auth_string.partition(":")[2],
            "Prefect auth header": base64.b64encode(self.prefect_auth_string.encode()).decode(),
            "backup encryption key": self.backup_key,
            "backup encryption key bytes": self.backup_key_bytes,
        }


def with_password(database_url: str, password: str) -> str:
    """The same database, reached with a password (the test server trusts loopback, so any works)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url  # SQLite has no password to leak
    return url.set(password=password).render_as_string(hide_password=False)


def assert_nothing_leaks(haystacks: dict[str, str | bytes], secrets: Secrets) -> None:
    """No secret in any haystack; the failure lists each (secret, place) found."""
    found = []
    for place, haystack in haystacks.items():
        text = haystack if isinstance(haystack, bytes) else str(haystack).encode("utf-8", "replace")
        for name, needle in secrets.needles().items():
            if not needle:
                continue
            raw = needle if isinstance(needle, bytes) else needle.encode()
            if raw in text:
                found.append(f"{name} in {place}")
    assert not found, "secrets leaked: " + "; ".join(found)


# ---------------------------------------------------------------------- SMTP with a login


class _Keep:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class LoginMailbox:
    """aiosmtpd on loopback that accepts mail only after AUTH with this user and password (plain
    text is allowed on loopback so the test needs no certificate)."""

    def __init__(self, username: str, password: str) -> None:
        self.port = free_port()
        self.logins: list[tuple[str, bool]] = []
        self._handler = _Keep()

        def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == username
                and auth_data.password.decode() == password
            )
            self.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", ok))
            return AuthResult(success=ok)

        self._controller = Controller(
            self._handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=False,
        )

    def __enter__(self) -> LoginMailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list:
        return self._handler.messages


def admin_client(endpoint: str):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="admin", aws_secret_access_key="admin"
    )


def s3_environment(monkeypatch, endpoint: str, bucket: str, secrets: Secrets, *, encrypt: bool = True) -> None:
    values = {
        "ROTAGUARD_S3_BUCKET": bucket,
        "ROTAGUARD_S3_ENDPOINT_URL": endpoint,
        "ROTAGUARD_S3_REGION": "us-east-1",
        "ROTAGUARD_S3_ACCESS_KEY_ID": "AKIASYNTHETICTEST",
        "ROTAGUARD_S3_SECRET_ACCESS_KEY": secrets.s3_secret_key,
    }
    if encrypt:
        values["ROTAGUARD_BACKUP_ENCRYPTION_KEY"] = secrets.backup_key
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def bucket_contents(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object's bytes and metadata, by key (for the leak check)."""
    client = admin_client(endpoint)
    found = {}
    for entry in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        response = client.get_object(Bucket=bucket, Key=entry["Key"])
        found[f"s3://{bucket}/{entry['Key']}"] = response["Body"].read()
        found[f"s3://{bucket}/{entry['Key']} metadata"] = repr(response.get("Metadata"))
    return found


# ---------------------------------------------------------------------- a Prefect API that checks the auth string


class PrefectApiStub:
    """Answers ``GET <api>/admin/version`` like a Prefect server behind basic auth: 401 without
    ``Authorization: Basic base64(auth_string)``."""

    def __init__(self, auth_string: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        expected = "Basic " + base64.b64encode(auth_string.encode()).decode()
        self.seen: list[bool] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                ok = self.headers.get("Authorization") == expected and self.path.endswith("/admin/version")
                seen.append(ok)
                body = b'"3.8.8"' if ok else b'{"exception_message": "Unauthorized"}'
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PrefectApiStub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
