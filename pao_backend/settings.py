"""Settings from the environment (prefix PAO_), validated once at start-up and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAO_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # The URL people and Backstage reach PAO at; used in links and entity locations. Unset, it follows
    # host and port.
    base_url: str = "http://127.0.0.1:8000"

    catalog_dir: Path = Path("catalog")
    templates_dir: Path = Path("templates")
    data_dir: Path = Path(".pao")
    # Empty means a SQLite file under data_dir.
    database_url: str = ""
    watch_catalog: bool = False

    # Identity. Without JWKS or service tokens, development runs as `dev_identity`, loudly logged.
    jwks_url: str | None = None
    jwt_audience: str | None = None
    service_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    dev_identity: str = "user:default/dev"
    dev_identity_teams: list[str] = Field(default_factory=lambda: ["developer-experience"])
    # User entity refs with the admin role (everything, calendar, metrics), e.g. ["user:default/jdoe"].
    admins: list[str] = Field(default_factory=list)

    # Encrypts secrets at rest (request secrets until they are used). Required outside development.
    secret_key: SecretStr | None = None

    # JIRA; without a URL, tickets go to PAO's built-in inbox.
    jira_url: str | None = None
    jira_user: str | None = None
    jira_token: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None
    jira_poll_seconds: float = 60.0
    # Unwoken polls of an open ticket back off (doubling) to this: every poll is a recorded step.
    jira_poll_max_seconds: float = 900.0

    # Credentials that rest-api actions reference by name (never inline in documents).
    credentials: dict[str, dict[str, SecretStr]] = Field(default_factory=dict)

    # Named base URLs that rest-api actions reference with `endpoint.base` (like credentials: by
    # reference, so documents never hard-code an environment's hosts).
    endpoints: dict[str, str] = Field(default_factory=dict)
    # Named git repositories (URL or local path) that git-commit actions reference by name.
    # `services` defaults to a local bare repository under data_dir (created by the first commit).
    repositories: dict[str, str] = Field(default_factory=dict)
    # Absolute paths or URL prefixes a cookiecutter action may use besides the folders of templates_dir.
    template_locations: list[str] = Field(default_factory=list)
    # `.system.platform` values: account, region, environment.
    platform: dict[str, str] = Field(
        default_factory=lambda: {"account": "local", "region": "local", "environment": "development"}
    )

    # The demo provisioner that `make run` serves, so automatic offerings work out of the box. Unset,
    # its URL follows host and port.
    demo_provisioner: bool = False
    provisioner_url: str = "http://127.0.0.1:8000/demo/provisioner"

    # Engine.
    executor_id: str = "pao-local"
    app_version: str = "pao-2"
    workers: bool = True
    heartbeat_seconds: float = 5.0
    stale_after_seconds: float = 30.0
    # DBOS system database; empty means a separate SQLite file under data_dir (SQLite) or the same
    # PostgreSQL database as PAO's tables, in DBOS's own schema `dbos`.
    engine_database_url: str = ""
    # How often the engine polls its database (queues, messages, results); lower = snappier, more queries.
    engine_poll_seconds: float = 0.01
    # SQLite: how often event subscribers look for events written by other processes (PostgreSQL
    # notifies every process at commit).
    event_poll_seconds: float = 0.05
    # Seconds the demo provisioner takes to answer (slow enough to watch).
    demo_provisioner_delay: float = 1.5
    # The largest request body PAO reads (bytes); larger ones get 413 (file fields' limits are far below).
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pao.db').resolve()}"

    @property
    def resolved_endpoints(self) -> dict[str, str]:
        """Configured endpoints; with the demo provisioner on, `provisioner` points at it unless set."""
        endpoints = dict(self.endpoints)
        if self.demo_provisioner:
            endpoints.setdefault("provisioner", self.provisioner_url)
        return endpoints

    @property
    def resolved_repositories(self) -> dict[str, str]:
        """Configured repositories, plus `services` → a local bare repository under data_dir unless set."""
        repositories = dict(self.repositories)
        repositories.setdefault("services", str((self.data_dir / "git" / "services.git").resolve()))
        return repositories

    @model_validator(mode="after")
    def _follow_host_and_port(self) -> Settings:
        # `PAO_PORT=9000 make run` must not link to, or provision through, port 8000.
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        here = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        if "base_url" not in self.model_fields_set:
            self.base_url = here
        if "provisioner_url" not in self.model_fields_set:
            self.provisioner_url = f"{here}/demo/provisioner"
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.environment == "production":
            if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("PAO_SECRET_KEY must be set to at least 32 characters in production")
            if not self.jwks_url and not self.service_tokens:
                raise ValueError(
                    "production needs PAO_JWKS_URL or PAO_SERVICE_TOKENS: no caller could be identified"
                )
        return self
