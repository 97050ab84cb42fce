"""Settings, read from the environment (prefix ``XINYONG_``) or a ``.env`` file.

SQLite in the data directory is the zero-set-up default; PostgreSQL is chosen by URL only.
Secret keys, when not given, are generated once and kept in the data directory so that a
fresh install is never left with a well-known key.
"""

from __future__ import annotations

import json
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINYONG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where the SQLite file, uploads and keys live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite file by default")
    secret_key: str | None = Field(default=None, description="Signs web session cookies")
    person_id_key: str | None = Field(default=None, description="Keys the hash of citizen ID numbers")
    platform_name: str = "信用信息平台"
    jurisdiction_name: str = "示范市"
    jurisdiction_code: str = "320100"
    session_hours: int = 8
    public_rate_limit: int = Field(default=120, ge=0,
                                   description="Public API requests per minute per client (IP or token); 0 = off")
    echo_sql: bool = False
    # E-mail for notices (docs/notifications.md): off while smtp_host is unset.
    smtp_host: str | None = Field(default=None, description="SMTP server for notice e-mails; None = e-mail off")
    smtp_port: int = 25
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before login")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "信用平台 <noreply@example.gov.cn>"
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for the SMTP server")
    smtp_max_attempts: int = Field(default=5, ge=1, description="Tries per e-mail before it is left as failed")
    site_url: str = Field(default="", description="Public address of the platform, for links in e-mails")

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'xinyong.db').resolve()}"

    @cached_property
    def _generated_secrets(self) -> dict[str, str]:
        path = self.data_dir / "secrets.json"
        if path.exists():
            return json.loads(path.read_text())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        generated = {"secret_key": secrets.token_urlsafe(32), "person_id_key": secrets.token_urlsafe(32)}
        path.write_text(json.dumps(generated))
        path.chmod(0o600)
        return generated

    @property
    def session_secret(self) -> str:
        return self.secret_key or self._generated_secrets["secret_key"]

    @property
    def person_id_secret(self) -> bytes:
        return (self.person_id_key or self._generated_secrets["person_id_key"]).encode()


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def use_settings(settings: Settings) -> None:
    """Replace the process-wide settings (tests, CLI options)."""
    global _settings
    _settings = settings
