"""E-mail over SMTP, always upgraded with STARTTLS before anything is said (login or text).

The Message-ID is derived from the event's key: a receiving system that deduplicates on it
sees a resend after a crash as the same message.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from domain.notifications import NotificationEvent, body, title
from domain.notify_channels import EmailConfig
from integrations.notify.errors import DeliveryError


def message(config: EmailConfig, event: NotificationEvent) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.recipients)
    mail["Subject"] = title(event)
    mail["Message-ID"] = f"<{hashlib.sha256(event.key.encode()).hexdigest()[:32]}@idrac-orch>"
    mail["X-Idrac-Orch-Event"] = event.kind.value
    mail.set_content(body(event))
    return mail


def send_email(
    config: EmailConfig,
    password: str | None,
    event: NotificationEvent,
    *,
    timeout_s: float = 10.0,
    ca_bundle: Path | None = None,
) -> None:
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=timeout_s) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise DeliveryError(
                    "the SMTP server does not offer STARTTLS; refusing to send in clear",
                    retryable=False,
                )
            smtp.starttls(context=context)
            smtp.ehlo()
            if config.username:
                smtp.login(config.username, password or "")
            smtp.send_message(message(config, event))
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login refused ({exc.smtp_code})", retryable=False) from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError("the SMTP server refused every recipient", retryable=False) from None
    except smtplib.SMTPResponseException as exc:
        # 4xx: try again later; 5xx: a permanent refusal.
        raise DeliveryError(
            f"the SMTP server answered {exc.smtp_code}", retryable=400 <= exc.smtp_code < 500
        ) from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"STARTTLS failed: {exc.reason}", retryable=False) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"could not talk to the SMTP server: {type(exc).__name__}: {exc}", retryable=True
        ) from None
