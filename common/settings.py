"""Process configuration, read once from the environment (prefix ``IDRAC_ORCH_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="IDRAC_ORCH_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".idrac-orch"),
        description="Where the embedded stack keeps its SQLite files, builds and logs.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; sqlite:/// or postgresql+psycopg://. "
        "Default: a SQLite file under data_dir.",
    )
    temporal_address: str = Field(default="127.0.0.1:7233", description="Temporal frontend.")
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    temporal_ui_port: int = Field(
        default=8233, ge=1, le=65535, description="Web UI port of the dev server."
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum log level."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: pretty on a TTY, JSON otherwise."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Key that encrypts stored credentials (never logged)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'idrac-orch.db').resolve()}"

    @property
    def temporal_host(self) -> str:
        return self.temporal_address.rsplit(":", 1)[0]

    @property
    def temporal_port(self) -> int:
        return int(self.temporal_address.rsplit(":", 1)[1])


@lru_cache
def get_settings() -> Settings:
    return Settings()
