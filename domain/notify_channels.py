"""What each notification channel kind needs besides its secret, validated once (API, CLI)
and read back by the activity that sends. The secret itself is never part of these."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from domain.notifications import ChannelKind

Address = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


def _no_credentials(url: HttpUrl) -> HttpUrl:
    if url.username or url.password:
        raise ValueError("must not carry a user or password (the URL is not secret)")
    return url


PlainUrl = Annotated[HttpUrl, AfterValidator(_no_credentials)]


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _https_unless_loopback(url: HttpUrl) -> HttpUrl:
    if url.scheme != "https" and not _loopback(url.host):
        raise ValueError(
            "must be https (the password or bearer token goes with every request); "
            "http only for a loopback address (127.0.0.0/8, ::1, localhost), such as a "
            "local test instance"
        )
    return url


# Carries the channel's secret on every request: TLS unless it never leaves the machine.
SecretBearingUrl = Annotated[PlainUrl, AfterValidator(_https_unless_loopback)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookConfig(_Config):
    """A JSON POST to ``url``, signed with the channel's secret (HMAC-SHA256)."""

    url: PlainUrl = Field(examples=["https://hooks.example.com/idrac-orch"])


class EmailConfig(_Config):
    """SMTP with STARTTLS (always: credentials and contents never cross in clear)."""

    host: str = Field(min_length=1, max_length=255, examples=["smtp.example.com"])
    port: int = Field(default=587, ge=1, le=65535)
    sender: Address = Field(examples=["idrac-orch@example.com"])
    recipients: list[Address] = Field(min_length=1, max_length=50)
    username: str | None = Field(
        default=None, max_length=255, description="SMTP login; the password is the secret."
    )


class ServiceNowConfig(_Config):
    """A ServiceNow instance's Table API. With ``username``, the secret is the password
    (basic auth); without, it is an OAuth bearer token. https only (http is refused but for
    a loopback address, where a local test instance listens)."""

    instance_url: SecretBearingUrl = Field(examples=["https://example.service-now.com"])
    username: str | None = Field(default=None, max_length=255, examples=["idrac-orch"])


class AppriseConfig(_Config):
    """Nothing but the Apprise URL, which is the secret (it carries the service's tokens)."""


CONFIGS: dict[ChannelKind, type[_Config]] = {
    ChannelKind.WEBHOOK: WebhookConfig,
    ChannelKind.EMAIL: EmailConfig,
    ChannelKind.APPRISE: AppriseConfig,
    ChannelKind.SERVICENOW: ServiceNowConfig,
}
SECRET_REQUIRED = {
    ChannelKind.WEBHOOK: True,
    ChannelKind.EMAIL: False,
    ChannelKind.APPRISE: True,
    ChannelKind.SERVICENOW: True,
}
SECRET_MEANING = {
    ChannelKind.WEBHOOK: "the HMAC-SHA256 signing key",
    ChannelKind.EMAIL: "the SMTP password",
    ChannelKind.APPRISE: "the Apprise URL (e.g. slack://..., json://host/path)",
    ChannelKind.SERVICENOW: "the password of username, or an OAuth bearer token without one",
}
