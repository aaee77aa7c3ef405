"""E-mail notifications over SMTP (off when ROTAGUARD_SMTP_HOST is unset)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from rotaguard.settings import Settings

SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Notice:
    to: tuple[str, ...]
    subject: str
    body: str


def send_notice(settings: Settings, notice: Notice) -> bool:
    """Send one message to every address; False when e-mail is off or nobody has an address.
    SMTP errors propagate so that the caller can retry."""
    if not settings.smtp_host or not notice.to:
        return False
    message = EmailMessage()
    message["From"] = settings.smtp_from or f"rotaguard@{settings.smtp_host}"
    message["To"] = ", ".join(notice.to)
    message["Subject"] = notice.subject
    message.set_content(notice.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as client:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            assert settings.smtp_password is not None  # Settings requires one with a user name
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        client.send_message(message)
    return True
