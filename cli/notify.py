"""`idrac-orch notify ...`: notification channels, rules and the delivery log, through the
API (roles and audit as for any client). Secrets are prompted for (hidden) or read from
NOTIFY_CHANNEL_SECRET, never taken as a command-line argument (shell history, ps).

Exit codes as for `campaign`: 0 done; 1 the API refused or could not be reached; 2 usage.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.campaign import DEFAULT_API_URL, ApiUrl, AsJson, Token
from cli.campaign import _session as api_session
from domain.notifications import DeliveryStatus, EventKind

app = typer.Typer(
    help="Notifications: channels (webhook, e-mail, chat, ServiceNow), rules, the delivery log.",
    no_args_is_help=True,
)
FROM_ENVIRONMENT = "NOTIFY_CHANNEL_SECRET"
Secret = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        envvar=FROM_ENVIRONMENT,
        help=f"Prompted, or ${FROM_ENVIRONMENT}.",
    ),
]
ChannelId = Annotated[int, typer.Argument(min=1, help="Channel id (see `notify channels`).")]


def _create(api_url: str, token: str | None, body: dict[str, Any], as_json: bool) -> None:
    with api_session(api_url, token) as api:
        channel = api.call("POST", "/notifications/channels", json=body)
    typer.echo(json.dumps(channel) if as_json else render_channel(channel))


def render_channel(channel: dict[str, Any]) -> str:
    state = "enabled" if channel["enabled"] else "disabled"
    config = ", ".join(f"{k}={v}" for k, v in sorted(channel["config"].items()))
    secret = "secret set" if channel["has_secret"] else "no secret"
    return f"{channel['id']}: {channel['name']} ({channel['kind']}, {state}, {secret}) {config}"


@app.command("channels")
def channels(
    as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None
) -> None:
    """List the channels (their secrets are never shown)."""
    with api_session(api_url, token) as api:
        items = api.every("/notifications/channels")
    typer.echo(json.dumps(items) if as_json else "\n".join(map(render_channel, items)))


@app.command("add-webhook")
def add_webhook(
    name: str,
    url: str,
    secret: Secret,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """A webhook: events POSTed as JSON, signed with SECRET (HMAC-SHA256)."""
    body = {"kind": "webhook", "name": name, "config": {"url": url}, "secret": secret}
    _create(api_url, token, body, as_json)


@app.command("add-email")
def add_email(
    name: str,
    host: Annotated[str, typer.Option(help="SMTP server (STARTTLS is required).")],
    sender: Annotated[str, typer.Option(help="From address.")],
    to: Annotated[list[str], typer.Option(help="Recipient; repeat for more.")],
    port: Annotated[int, typer.Option(min=1, max=65535)] = 587,
    username: Annotated[str | None, typer.Option(help="SMTP login (password prompted).")] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """E-mail over SMTP with STARTTLS."""
    config: dict[str, Any] = {"host": host, "port": port, "sender": sender, "recipients": to}
    body: dict[str, Any] = {"kind": "email", "name": name, "config": config}
    if username:
        config["username"] = username
        body["secret"] = typer.prompt("SMTP password", hide_input=True)
    _create(api_url, token, body, as_json)


@app.command("add-apprise")
def add_apprise(
    name: str,
    secret: Annotated[
        str,
        typer.Option(
            "--url",
            prompt="Apprise URL",
            hide_input=True,
            envvar=FROM_ENVIRONMENT,
            help=f"The Apprise URL (slack://..., msteams://...): prompted, or ${FROM_ENVIRONMENT}.",
        ),
    ],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Chat (Slack, Teams, Mattermost, ...) through an Apprise URL, stored encrypted."""
    _create(api_url, token, {"kind": "apprise", "name": name, "secret": secret}, as_json)


@app.command("add-servicenow")
def add_servicenow(
    name: str,
    instance_url: str,
    secret: Secret,
    username: Annotated[
        str | None, typer.Option(help="Basic-auth user; without it the secret is a bearer token.")
    ] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """A ServiceNow change request per campaign: opened, a work note per host, closed."""
    config: dict[str, Any] = {"instance_url": instance_url, "username": username}
    body = {"kind": "servicenow", "name": name, "config": config, "secret": secret}
    _create(api_url, token, body, as_json)


def _set_enabled(channel_id: int, enabled: bool, api_url: str, token: str | None) -> None:
    with api_session(api_url, token) as api:
        channel = api.call(
            "PATCH", f"/notifications/channels/{channel_id}", json={"enabled": enabled}
        )
    typer.echo(render_channel(channel))


@app.command("enable")
def enable(channel_id: ChannelId, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None) -> None:
    """Send to this channel again."""
    _set_enabled(channel_id, True, api_url, token)


@app.command("disable")
def disable(channel_id: ChannelId, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None) -> None:
    """Stop sending to this channel (its pending deliveries are marked failed)."""
    _set_enabled(channel_id, False, api_url, token)


def render_rule(rule: dict[str, Any]) -> str:
    kinds = ", ".join(rule["kinds"]) or "every event"
    scope = f"campaign {rule['campaign_id']}" if rule["campaign_id"] else "every campaign"
    state = "" if rule["enabled"] else " (disabled)"
    return f"{rule['id']}: {kinds} of {scope} -> channel {rule['channel_id']}{state}"


@app.command("rules")
def rules(as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None) -> None:
    """List the rules."""
    with api_session(api_url, token) as api:
        items = api.every("/notifications/rules")
    typer.echo(json.dumps(items) if as_json else "\n".join(map(render_rule, items)))


@app.command("add-rule")
def add_rule(
    channel_id: ChannelId,
    event: Annotated[
        list[EventKind] | None, typer.Option(help="Event kind; repeat for more (none: every).")
    ] = None,
    campaign: Annotated[int | None, typer.Option(min=1, help="Only this campaign.")] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Send events (of these kinds, of this campaign) to a channel."""
    body = {"channel_id": channel_id, "kinds": [k.value for k in event or []]}
    if campaign is not None:
        body["campaign_id"] = campaign
    with api_session(api_url, token) as api:
        rule = api.call("POST", "/notifications/rules", json=body)
    typer.echo(json.dumps(rule) if as_json else render_rule(rule))


def render_delivery(delivery: dict[str, Any]) -> str:
    error = f": {delivery['last_error']}" if delivery["last_error"] else ""
    return (
        f"{delivery['id']}: {delivery['kind']} {delivery['subject']} -> "
        f"{delivery['channel_name']}: {delivery['status']} after {delivery['attempts']} "
        f"attempt(s){error}"
    )


@app.command("deliveries")
def deliveries(
    status: Annotated[DeliveryStatus | None, typer.Option(help="Only these.")] = None,
    campaign: Annotated[int | None, typer.Option(min=1, help="Only this campaign's.")] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """The delivery log, newest first; `--status failed` shows what never arrived."""
    params: dict[str, Any] = {}
    if status is not None:
        params["status"] = status.value
    if campaign is not None:
        params["campaign_id"] = campaign
    with api_session(api_url, token) as api:
        items = api.every("/notifications/deliveries", **params)
    typer.echo(json.dumps(items) if as_json else "\n".join(map(render_delivery, items)))


@app.command("retry")
def retry(
    delivery_id: Annotated[int, typer.Argument(min=1, help="A failed delivery's id.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Send a failed delivery again (once its receiver is fixed)."""
    with api_session(api_url, token) as api:
        delivery = api.call("POST", f"/notifications/deliveries/{delivery_id}/retry")
    typer.echo(render_delivery(delivery))
