"""Process configuration, read once from the environment (prefix ``IDRAC_ORCH_``)."""

from __future__ import annotations

import ipaddress
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
    temporal_ui_url: str | None = Field(
        default=None,
        description="Base URL of the Temporal Web UI the console links each workflow to (e.g. "
        "https://temporal.example.com). Unset: the dev server's http://<temporal host>:"
        "<temporal_ui_port>.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="API processes `idrac-orch api` starts (about one per core; each has its "
        "own database connections).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum log level."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: pretty on a TTY, JSON otherwise."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Key that encrypts stored credentials (never logged)."
    )
    previous_secret_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Retired secret keys (JSON list), still accepted for decryption so that "
        "`idrac-orch secrets rotate` can re-encrypt under secret_key.",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of the audit log's hash chain (never stored in the database). "
        "Default: derived from secret_key; unset with no secret_key: unkeyed SHA-256.",
    )
    previous_audit_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Retired audit keys (JSON list), still accepted by `idrac-orch audit verify`.",
    )
    token_signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key that signs login tokens. Default: derived from secret_key.",
    )
    login_token_ttl_s: int = Field(
        default=900, ge=60, le=86400, description="Lifetime of a login token in seconds."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per user and source before lockout."
    )
    login_lockout_s: int = Field(
        default=300, ge=1, description="Window (seconds) over which failed logins are counted."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (JSON list of IPs or CIDRs) whose X-Forwarded-For names "
        "the caller for login throttling and the audit log. Default: none, the peer address "
        "is the caller.",
    )
    ldap_url: str | None = Field(
        default=None,
        description="ldap:// or ldaps:// URL of the directory; unset disables LDAP logins.",
    )
    ldap_start_tls: bool = Field(
        default=False, description="Upgrade an ldap:// connection with StartTLS before binding."
    )
    ldap_ca_file: Path | None = Field(
        default=None, description="CA bundle that verifies the directory's TLS certificate."
    )
    ldap_bind_dn: str | None = Field(
        default=None, description="Service account DN used to search for users and groups."
    )
    ldap_bind_password: SecretStr | None = Field(
        default=None, description="Service account password (never logged)."
    )
    ldap_user_base_dn: str = Field(default="", description="Subtree searched for user entries.")
    ldap_user_filter: str = Field(
        default="(&(objectClass=person)(uid={username}))",
        description="User search filter; {username} is replaced by the escaped login name. "
        "For Active Directory: (&(objectClass=user)(sAMAccountName={username})).",
    )
    ldap_group_base_dn: str = Field(default="", description="Subtree searched for groups.")
    ldap_group_filter: str = Field(
        default="(objectClass=groupOfNames)",
        description="Filter selecting group entries (ANDed with member=<dn>). "
        "For Active Directory: (objectClass=group).",
    )
    ldap_nested_groups: bool = Field(
        default=True, description="Follow groups that are members of groups (nested)."
    )
    ldap_timeout_s: float = Field(default=5.0, gt=0, description="Directory connect timeout.")
    ldap_role_groups: dict[str, Literal["viewer", "operator", "admin"]] = Field(
        default_factory=dict,
        description='Group DN -> role (JSON), e.g. {"cn=fw-admins,ou=groups,dc=x": "admin"}. '
        "A user gets the highest role of all their groups; no mapped group, no login.",
    )
    ldap_approver_groups: list[str] = Field(
        default_factory=list,
        description="Group DNs (JSON list) whose members hold the approver right: they approve "
        "or reject campaigns whose policy needs approval (never their own). Separate from "
        "the roles: an admin is no approver unless in such a group; break-glass never is.",
    )
    breakglass_username: str | None = Field(
        default=None, description="Local emergency admin; disabled unless set with its hash."
    )
    breakglass_password_hash: SecretStr | None = Field(
        default=None,
        description="scrypt hash of the break-glass password (`idrac-orch secrets hash-password`).",
    )
    package_dir: Path | None = Field(
        default=None,
        description="Where uploaded firmware packages are stored. Default: data_dir/packages.",
    )
    idrac_port: int = Field(
        default=443, ge=1, le=65535, description="HTTPS port of every iDRAC (443 on real ones)."
    )
    idrac_ca_bundle: Path | None = Field(
        default=None, description="PEM CAs the worker trusts for iDRAC HTTPS certificates."
    )
    idrac_insecure: bool = Field(
        default=False, description="Skip iDRAC certificate checks (explicit opt-in; lab only)."
    )
    activity_heartbeat_timeout_s: int = Field(
        default=60,
        ge=3,
        description="How long any runbook step may stay silent (a dead worker) before "
        "Temporal retries it on another worker.",
    )
    idrac_poll_interval_s: float = Field(
        default=10.0, gt=0, description="How often the worker polls an iDRAC job or reboot."
    )
    vcenter_poll_interval_s: float = Field(
        default=5.0, gt=0, description="How often the worker re-reads vCenter while it waits."
    )
    vcenter_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="vCenter calls one worker runs at once, each on its own thread and "
        "logged-in session.",
    )
    vcenter_sync_interval_minutes: int = Field(
        default=60,
        ge=0,
        le=10080,
        description="How often every registered vCenter's datacenters, clusters and hosts "
        "are synchronised (a Temporal Schedule the worker keeps in line with this; 0: never, "
        "on demand only).",
    )
    inventory_sweep_interval_minutes: int = Field(
        default=15,
        ge=0,
        le=1440,
        description="How often every managed iDRAC's firmware inventory and health are "
        "read and stored (a Temporal Schedule the worker keeps in line with this; 0: never, "
        "on demand only).",
    )
    inventory_sweep_concurrency: int = Field(
        default=64, ge=1, le=1000, description="iDRACs one sweep reads at once."
    )
    inventory_host_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="How long one iDRAC may take in a sweep before it counts as unreachable.",
    )
    vcenter_ca_bundle: Path | None = Field(
        default=None, description="PEM CAs the worker trusts for vCenter certificates."
    )
    vcenter_insecure: bool = Field(
        default=False, description="Skip vCenter certificate checks (explicit opt-in; lab only)."
    )
    package_repository_url: str | None = Field(
        default=None,
        description="Base URL iDRACs download packages from (this API's /repository/...). "
        "Default: http://API_HOST:API_PORT.",
    )
    package_link_ttl_s: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="How long the signed package link handed to an iDRAC works; it is "
        "signed at staging, when the iDRAC downloads.",
    )
    payload_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Temporal payload encryption keys (JSON, newest first): {"2026-12": '
        '"<base64 of 32 random bytes>", "2026-06": "..."}; the first encrypts, all decrypt. '
        "Keys derived from secret_key (and previous_secret_keys) follow: they encrypt when "
        "none is set here, and always decrypt.",
    )
    temporal_tls: bool = Field(
        default=False, description="Connect to Temporal over TLS (system CAs unless a CA file)."
    )
    temporal_tls_ca_file: Path | None = Field(
        default=None, description="PEM CA bundle that verifies Temporal's certificate (TLS on)."
    )
    temporal_tls_cert_file: Path | None = Field(
        default=None, description="PEM client certificate for mutual TLS (with the key file)."
    )
    temporal_tls_key_file: Path | None = Field(
        default=None, description="PEM private key of the mutual TLS client certificate."
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="Name Temporal's certificate is checked against (SNI)."
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, description="Temporal Cloud API key (implies TLS; never logged)."
    )
    codec_cors_origin: str | None = Field(
        default=None,
        description="Origin of the Temporal Web UI allowed to call /codec (e.g. "
        "https://temporal.example.com); unset: no cross-origin calls.",
    )
    temporal_metrics_address: str | None = Field(
        default=None,
        description="host:port where this process serves the Temporal SDK's Prometheus metrics "
        "(task latency, slots, failures; e.g. 0.0.0.0:9464 on workers). Unset: off.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector URL (e.g. http://otel-collector:4318) receiving traces "
        "of client calls -> workflows -> activities -> Redfish requests. Unset: off.",
    )
    otel_service_name: str = Field(
        default="idrac-orch", description="service.name of this process's traces."
    )
    notify_max_attempts: int = Field(
        default=6,
        ge=1,
        le=50,
        description="Attempts per notification and channel before its delivery is marked "
        "failed (visible in GET /notifications/deliveries and the audit log).",
    )
    notify_backoff_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Wait after a notification's first failed attempt; doubled after each "
        "further failure up to notify_backoff_max_s.",
    )
    notify_backoff_max_s: float = Field(
        default=60.0, gt=0, le=3600, description="Longest wait between two notification attempts."
    )
    notify_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="How long one webhook or SMTP attempt may take."
    )
    notify_ca_bundle: Path | None = Field(
        default=None,
        description="PEM CAs trusted for webhook HTTPS and SMTP STARTTLS certificates "
        "(unset: the system's CAs).",
    )

    audit_syslog_host: str | None = Field(
        default=None,
        description="Syslog receiver the audit log is forwarded to (RFC 5424, octet-counted "
        "frames; docs/audit.md). Unset: no forwarding.",
    )
    audit_syslog_port: int = Field(
        default=6514, ge=1, le=65535, description="Port of the syslog receiver (6514: RFC 5425)."
    )
    audit_syslog_transport: Literal["tcp", "tls"] = Field(
        default="tls", description="tls (RFC 5425, certificate checked) or plain tcp (RFC 6587)."
    )
    audit_syslog_ca_file: Path | None = Field(
        default=None,
        description="PEM CAs that verify the receiver's certificate (unset: the system's CAs).",
    )
    audit_syslog_cert_file: Path | None = Field(
        default=None, description="PEM client certificate for mutual TLS (with the key file)."
    )
    audit_syslog_key_file: Path | None = Field(
        default=None, description="PEM private key of the mutual TLS client certificate."
    )
    audit_syslog_facility: Literal[
        "user",
        "daemon",
        "auth",
        "authpriv",
        "audit",
        "local0",
        "local1",
        "local2",
        "local3",
        "local4",
        "local5",
        "local6",
        "local7",
    ] = Field(default="authpriv", description="Syslog facility of the forwarded messages.")
    audit_syslog_hostname: str | None = Field(
        default=None,
        description="HOSTNAME field of the messages. Default: this machine's fully qualified name.",
    )
    audit_syslog_enterprise_id: int = Field(
        default=32473,
        ge=1,
        description="Private Enterprise Number in the SD-ID (audit@N). 32473 is the number "
        "reserved for documentation (RFC 5612): set your organisation's own.",
    )
    audit_syslog_batch_size: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="Audit entries sent per round before the cursor moves.",
    )
    audit_syslog_interval_s: float = Field(
        default=2.0, gt=0, le=600, description="How often the forwarder looks for new entries."
    )
    audit_syslog_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Connect and send timeout towards the receiver."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError("each trusted proxy must be an IP address or CIDR") from None
        return value

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
    def effective_package_repository_url(self) -> str:
        return (self.package_repository_url or f"http://{self.api_host}:{self.api_port}").rstrip(
            "/"
        )

    @property
    def effective_package_dir(self) -> Path:
        return (self.package_dir or self.data_dir / "packages").resolve()

    @property
    def effective_temporal_ui_url(self) -> str:
        default = f"http://{self.temporal_host}:{self.temporal_ui_port}"
        return (self.temporal_ui_url or default).rstrip("/")

    @property
    def temporal_host(self) -> str:
        return self.temporal_address.rsplit(":", 1)[0]

    @property
    def temporal_port(self) -> int:
        return int(self.temporal_address.rsplit(":", 1)[1])


@lru_cache
def get_settings() -> Settings:
    return Settings()
