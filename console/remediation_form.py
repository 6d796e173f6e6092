"""The remediation form: campaign name, the main policy fields and stored windows, read
into the API's own ``RemediationRequest`` so the API's validation (and its words) decide."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from api.routes.remediation import RemediationRequest

POLICY_FIELDS = ("max_concurrent_per_cluster", "min_hosts_online", "on_failure")


class FormErrors(Exception):
    """The form's mistakes, each naming its field (``field: what is wrong``)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class RemediationForm:
    """What the operator typed, echoed back into the form (a refused form keeps it)."""

    name: str = ""
    policy: dict[str, str] = field(default_factory=dict)  # only the fields filled in
    window_ids: tuple[str, ...] = ()

    @classmethod
    def read(cls, single: Mapping[str, str], window_ids: Sequence[str]) -> RemediationForm:
        policy = {k: single[k].strip() for k in POLICY_FIELDS if (single.get(k) or "").strip()}
        chosen = tuple(w.strip() for w in window_ids if w.strip())
        return cls((single.get("name") or "").strip(), policy, chosen)

    def request(self) -> RemediationRequest:
        """The API's request body; empty fields take the API's defaults."""
        try:
            return RemediationRequest.model_validate(
                {"name": self.name or None, "policy": self.policy, "window_ids": self.window_ids}
            )
        except ValidationError as exc:
            raise FormErrors([_message(e["loc"], e["msg"]) for e in exc.errors()]) from None


def _message(loc: tuple[int | str, ...], text: str) -> str:
    """``policy.max_concurrent_per_cluster`` -> the form's field name; a list's item index
    stays out (the field is what the operator can find)."""
    names = [part for part in loc if isinstance(part, str)]
    return f"{names[-1] if names else 'form'}: {text}"
