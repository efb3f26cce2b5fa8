"""Configuration of sohoa: environment variables, optionally a ``sohoa.toml`` file.

Precedence: environment variable > ``sohoa.toml`` (in the working directory, or the file named by
``SOHOA_CONFIG``) > embedded default.  Every room receives plain values from here; no room reads the
environment by itself.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

_KEYS = {
    "data_dir": "SOHOA_DATA_DIR",
    "database_url": "SOHOA_DATABASE_URL",
    "archive_url": "SOHOA_ARCHIVE_URL",
    "s3_endpoint": "SOHOA_S3_ENDPOINT",
    "s3_access_key": "SOHOA_S3_ACCESS_KEY",
    "s3_secret_key": "SOHOA_S3_SECRET_KEY",
    "s3_secure": "SOHOA_S3_SECURE",
    "agency": "SOHOA_AGENCY",
    "key_passphrase": "SOHOA_KEY_PASSPHRASE",
    "review_threshold": "SOHOA_REVIEW_THRESHOLD",
    "s3_lock_mode": "SOHOA_S3_LOCK_MODE",
    "permanent_retention_years": "SOHOA_PERMANENT_RETENTION_YEARS",
    "catalogue": "SOHOA_CATALOGUE",
    "model_cache": "SOHOA_MODEL_CACHE",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    archive_url: str
    s3_endpoint: str | None
    s3_access_key: str | None
    s3_secret_key: str | None
    s3_secure: bool
    agency: str
    key_passphrase: str | None
    review_threshold: float
    s3_lock_mode: str = "COMPLIANCE"
    permanent_retention_years: int = 100
    catalogue: Path | None = None  # a catalogue file replacing codes/data/catalogue.toml
    model_cache: Path | None = None  # where trained text models are kept (default: data_dir/models)

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def review_dir(self) -> Path:
        return self.data_dir / "review"


def _file_values() -> dict[str, str]:
    path = Path(os.environ.get("SOHOA_CONFIG", "sohoa.toml"))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return {k: str(v) for k, v in raw.items() if k in _KEYS}


def load_settings() -> Settings:
    """Read the settings once, from the environment and the optional ``sohoa.toml``."""
    values = _file_values()
    for name, env in _KEYS.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    data_dir = Path(values.get("data_dir", "sohoa-data")).expanduser().resolve()
    return Settings(
        data_dir=data_dir,
        database_url=values.get("database_url", f"sqlite:///{data_dir / 'index.sqlite3'}"),
        archive_url=values.get("archive_url", (data_dir / "archive").as_uri()),
        s3_endpoint=values.get("s3_endpoint"),
        s3_access_key=values.get("s3_access_key"),
        s3_secret_key=values.get("s3_secret_key"),
        s3_secure=values.get("s3_secure", "false").lower() in {"1", "true", "yes"},
        agency=values.get("agency", "000.00.00.H26"),
        key_passphrase=values.get("key_passphrase"),
        review_threshold=float(values.get("review_threshold", "0.80")),
        s3_lock_mode=values.get("s3_lock_mode", "COMPLIANCE").upper(),
        permanent_retention_years=int(values.get("permanent_retention_years", "100")),
        catalogue=Path(values["catalogue"]).expanduser().resolve() if values.get("catalogue") else None,
        model_cache=Path(values["model_cache"]).expanduser().resolve() if values.get("model_cache") else None,
    )
