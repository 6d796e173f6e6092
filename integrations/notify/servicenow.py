"""ServiceNow's Table API for change requests: find by correlation id, create, update.

ServiceNow has no idempotency header: the caller looks a campaign's change request up by
its ``correlation_id`` before creating one, so a create whose answer was lost is found
rather than repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from common.logging import register_secret
from domain.notify_channels import ServiceNowConfig
from domain.tickets import TABLE
from integrations.notify.errors import DeliveryError
from integrations.notify.http import HttpOptions, exchange


@dataclass(frozen=True)
class ChangeRequest:
    sys_id: str
    number: str


class ServiceNowClient:
    """One channel's Table API; use as a context manager (one connection per send)."""

    def __init__(self, config: ServiceNowConfig, secret: str, options: HttpOptions) -> None:
        register_secret(secret)
        auth: dict[str, Any] = (
            {"auth": httpx.BasicAuth(config.username, secret)}
            if config.username
            else {"headers": {"Authorization": f"Bearer {secret}"}}
        )
        self.table_url = f"{str(config.instance_url).rstrip('/')}/api/now/table/{TABLE}"
        self.client = options.client(**auth)
        self.client.headers.update({"Accept": "application/json"})

    def __enter__(self) -> ServiceNowClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def find(self, correlation_id: str) -> ChangeRequest | None:
        params = {
            "sysparm_query": f"correlation_id={correlation_id}",
            "sysparm_fields": "sys_id,number",
            "sysparm_limit": "1",
        }
        found = self._result(exchange(self.client, "GET", self.table_url, params=params))
        return _change_request(found[0]) if found else None

    def create(self, fields: dict[str, str]) -> ChangeRequest:
        return _change_request(
            self._result(exchange(self.client, "POST", self.table_url, json=fields))
        )

    def update(self, sys_id: str, fields: dict[str, str]) -> None:
        exchange(self.client, "PATCH", f"{self.table_url}/{sys_id}", json=fields)

    @staticmethod
    def _result(response: httpx.Response) -> Any:
        """The Table API's ``{"result": ...}`` envelope, opened."""
        try:
            return response.json()["result"]
        except (ValueError, KeyError, TypeError):
            raise DeliveryError(
                "ServiceNow answered without a Table API result", retryable=True
            ) from None


def _change_request(record: Any) -> ChangeRequest:
    try:
        return ChangeRequest(sys_id=str(record["sys_id"]), number=str(record["number"]))
    except (KeyError, TypeError):
        raise DeliveryError("ServiceNow's record has no sys_id or number", retryable=True) from None
