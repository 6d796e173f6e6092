"""What docker compose would hand each container, computed offline from the same files:
docker-compose.yml plus a .env made from deploy/.env.example (no Docker engine runs here).

Follows the Compose specification's interpolation (``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``$$``) and its .env rules
(single quotes literal), via python-dotenv, which implements the same format.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]+)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_OPERATOR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>.*))?$", re.S)


class MissingVariableError(ValueError):
    """A ``${VAR:?message}`` whose variable is unset: compose refuses to start."""


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def dotenv(path: Path) -> dict[str, str]:
    return {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}


def interpolate(value: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        expression = match.group("braced") or match.group("plain")
        parsed = _OPERATOR.match(expression)
        if parsed is None:
            raise ValueError(f"cannot interpolate ${{{expression}}}")
        name, op, arg = parsed.group("name", "op", "arg")
        current = variables.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in ("-", ":-") and unset:
            return interpolate(arg, variables)
        if op in ("?", ":?") and unset:
            raise MissingVariableError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(replace, value)


def service_environment(
    compose: dict[str, Any], service: str, env_file: dict[str, str]
) -> dict[str, str]:
    """The container's environment: its env_file (our .env), then ``environment``
    (which wins), each value interpolated from .env as compose does."""
    definition = compose["services"][service]
    assert definition.get("env_file") == [".env"], "api and worker read exactly .env"
    environment = {k: str(v) for k, v in env_file.items()}
    for key, value in definition.get("environment", {}).items():
        environment[key] = interpolate(str(value), env_file)
    return environment
