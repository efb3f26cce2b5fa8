"""Configuration of sohoa: environment variables, optionally a ``sohoa.toml`` file.

Precedence: environment variable > ``sohoa.toml`` (in the working directory, or the file named by
``SOHOA_CONFIG``) > embedded default.  This is the only module that reads (or sets) the environment:
every room receives plain values from here, the page workers theirs in their job.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
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
    "signing_key": "SOHOA_SIGNING_KEY",
    "key_passphrase_file": "SOHOA_KEY_PASSPHRASE_FILE",
    "pkcs11_module": "SOHOA_PKCS11_MODULE",
    "pkcs11_token": "SOHOA_PKCS11_TOKEN",
    "pkcs11_key_label": "SOHOA_PKCS11_KEY_LABEL",
    "pkcs11_cert": "SOHOA_PKCS11_CERT",
    "pkcs11_pin": "SOHOA_PKCS11_PIN",
    "pkcs11_pin_file": "SOHOA_PKCS11_PIN_FILE",
    "signature_level": "SOHOA_SIGNATURE_LEVEL",
    "tsa_url": "SOHOA_TSA_URL",
    "trust_dir": "SOHOA_TRUST_DIR",
    "stamp": "SOHOA_STAMP",
    "public_url": "SOHOA_PUBLIC_URL",
    "dev_keys": "SOHOA_DEV_KEYS",
    "ocr_lang": "SOHOA_OCR_LANG",
    "ocr_engine": "SOHOA_OCR_ENGINE",
    "page_timeout": "SOHOA_PAGE_TIMEOUT",
    "pages_per_worker": "SOHOA_PAGES_PER_WORKER",
    "tessdata_dir": "TESSDATA_PREFIX",  # Tesseract's own variable
    "active_content": "SOHOA_ACTIVE_CONTENT",
    "second_reader": "SOHOA_SECOND_READER",
    "secure_cookies": "SOHOA_SECURE_COOKIES",
    "idle_minutes": "SOHOA_IDLE_MINUTES",
    "officer": "SOHOA_OFFICER",
    "legacy_sha1_until": "SOHOA_LEGACY_SHA1_UNTIL",
    "require_paper_type_code": "SOHOA_REQUIRE_PAPER_TYPE_CODE",
    "outbox_dead_after_hours": "SOHOA_OUTBOX_DEAD_AFTER_HOURS",
    "outbox_first_retry_seconds": "SOHOA_OUTBOX_FIRST_RETRY_SECONDS",
    "outbox_lease_seconds": "SOHOA_OUTBOX_LEASE_SECONDS",
    "national_store_url": "SOHOA_NATIONAL_STORE_URL",
    "national_store_token_url": "SOHOA_NATIONAL_STORE_TOKEN_URL",
    "national_store_user": "SOHOA_NATIONAL_STORE_USER",
    "national_store_password": "SOHOA_NATIONAL_STORE_PASSWORD",
    "national_store_password_file": "SOHOA_NATIONAL_STORE_PASSWORD_FILE",
    "national_store_unit": "SOHOA_NATIONAL_STORE_UNIT",
    "broker_url": "SOHOA_BROKER_URL",
    "work_url": "SOHOA_WORK_URL",
}
OCR_ENGINES = ("tesseract", "tesserocr")
ACTIVE_CONTENT_POLICIES = ("reject", "flag")
SECOND_READERS = ("auto", "trueocr", "tesseract")


class SettingsError(ValueError):
    """A setting has a value sohoa cannot use; the message names the variable and says what is allowed."""


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
    signing_key: Path | None = None  # a PKCS#12 file; default: the development keys of data_dir/keys
    pkcs11_module: Path | None = None  # a PKCS#11 library (USB token, HSM); wins over signing_key
    pkcs11_token: str | None = None
    pkcs11_key_label: str | None = None
    pkcs11_cert: Path | None = None
    pkcs11_pin: str | None = field(default=None, repr=False)
    signature_level: str | None = None  # B-B, B-T, B-LT, B-LTA; default B-T with a TSA, else B-B
    tsa_url: str | None = None  # http(s) URL of an RFC 3161 TSA, or "dev" for the development TSA
    trust_dir: Path | None = None  # extra trusted root certificates (PEM/DER files)
    stamp: str = "bottom-right"  # visible stamp: off, a corner, or x1,y1,x2,y2
    public_url: str | None = None  # base URL of the HTTP API, for the stamp's QR code
    dev_keys_on_first_use: bool = False  # make development keys when none exist (tests); never in production
    # Vietnamese alone: with the clean-up it reads 0.66 % CER against 1.23 % for vie+eng (bench/ocr_quality.py).
    ocr_lang: str = "vie"
    ocr_engine: str = "tesseract"  # tesseract (the command, via pytesseract) or tesserocr (libtesseract in-process)
    page_timeout: float = 180.0  # seconds of OCR allowed for one page
    pages_per_worker: int = 50  # a page worker is replaced after this many pages (bounds what a leak can take)
    tessdata_dir: Path | None = None  # where the language models are (default: Debian's folder)
    active_content: str = "reject"  # a PDF with scripts, launch actions, embedded files: reject, or flag and archive
    # Who reads unsure lines a second time: trueocr (an independent ONNX recognizer, the `second-reader` extra),
    # tesseract (the same engine on the crop), or auto (trueocr when installed).
    second_reader: str = "auto"
    secure_cookies: bool = False  # session cookies only over HTTPS (SOHOA_SECURE_COOKIES, or an https public URL)
    idle_minutes: int = 30  # a workspace session ends after this long without a request
    officer: str | None = None  # the digitizing officer who signs top left (sohoa officers; `process --officer`)
    # SHA-1 signatures are accepted when a trusted timestamp proves them older than this day (legacy policy).
    legacy_sha1_until: dt.date | None = None
    # A province that requires the national result-type code: a type without one in the catalogue waits.
    require_paper_type_code: bool = False
    outbox_dead_after_hours: float = 72.0  # a delivery still failing this long after its event is dead
    outbox_first_retry_seconds: float = 5.0  # the first wait after a failed delivery (then doubling, with jitter)
    outbox_lease_seconds: float = 60.0  # a delivery a dispatcher took and never finished is taken over after this
    # The citizen's electronic store on the National Public Service Portal (workflow/national_store.py): where
    # results of dossiers are pushed, the token endpoint, and the credentials and unit code it issued.
    national_store_url: str | None = None
    national_store_token_url: str | None = None
    national_store_user: str | None = None
    national_store_password: str | None = None
    national_store_unit: str | None = None
    # Distributed backfills: the broker that carries page and document tasks (amqp://user:pass@host:5672//), and
    # where workers hand files on (a folder mounted at the same path everywhere, or an S3 bucket).
    broker_url: str | None = field(default=None, repr=False)
    work_url: str | None = None

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


def _secret(values: dict[str, str], name: str) -> str | None:
    """A secret from its variable, or from the file named by ``<name>_file`` (never from the command line)."""
    if values.get(name):
        return values[name]
    if values.get(f"{name}_file"):
        return Path(values[f"{name}_file"]).expanduser().read_text("utf-8").strip()
    return None


def _path(values: dict[str, str], name: str) -> Path | None:
    return Path(values[name]).expanduser().resolve() if values.get(name) else None


def _pages_per_worker(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise SettingsError(f"SOHOA_PAGES_PER_WORKER must be a whole number of pages, at least 1, not {value!r}")
    return int(value)


def _ocr_engine(value: str) -> str:
    name = value.strip().lower()
    if name not in OCR_ENGINES:
        raise SettingsError(f"SOHOA_OCR_ENGINE must be one of {', '.join(OCR_ENGINES)}, not {name!r}")
    return name


def _second_reader(value: str) -> str:
    name = value.strip().lower()
    if name not in SECOND_READERS:
        raise SettingsError(f"SOHOA_SECOND_READER must be one of {', '.join(SECOND_READERS)}, not {value!r}")
    return name


def _active_content_policy(value: str) -> str:
    policy = value.strip().lower()
    if policy not in ACTIVE_CONTENT_POLICIES:
        raise SettingsError(f"SOHOA_ACTIVE_CONTENT must be one of {', '.join(ACTIVE_CONTENT_POLICIES)}, "
                            f"not {value!r}")
    return policy


def _page_timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise SettingsError(f"SOHOA_PAGE_TIMEOUT must be a number of seconds above 0, not {value!r}")
    return seconds


def prepare_worker_environment() -> None:
    """Before page workers are spawned: Tesseract (OpenMP) and numpy's OpenBLAS single-threaded in them.

    Pages are spread over processes, one per core; threads inside a worker only compete with the other
    workers.  OpenBLAS otherwise starts a thread per core in every worker as numpy is imported (0.18 s of
    CPU per worker start, for no page work), and that happens before any pool initializer runs, so the
    workers must inherit the setting from this process's environment (replacements included).
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def load_settings() -> Settings:
    """Read the settings once, from the environment and the optional ``sohoa.toml``.

    Raises ``SettingsError`` for a value sohoa cannot use.
    """
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
        key_passphrase=_secret(values, "key_passphrase"),
        review_threshold=float(values.get("review_threshold", "0.80")),
        s3_lock_mode=values.get("s3_lock_mode", "COMPLIANCE").upper(),
        permanent_retention_years=int(values.get("permanent_retention_years", "100")),
        catalogue=Path(values["catalogue"]).expanduser().resolve() if values.get("catalogue") else None,
        model_cache=_path(values, "model_cache"),
        signing_key=_path(values, "signing_key"),
        pkcs11_module=_path(values, "pkcs11_module"),
        pkcs11_token=values.get("pkcs11_token"),
        pkcs11_key_label=values.get("pkcs11_key_label"),
        pkcs11_cert=_path(values, "pkcs11_cert"),
        pkcs11_pin=_secret(values, "pkcs11_pin"),
        signature_level=values.get("signature_level"),
        tsa_url=values.get("tsa_url"),
        trust_dir=_path(values, "trust_dir"),
        stamp=values.get("stamp", "bottom-right"),
        public_url=values.get("public_url"),
        dev_keys_on_first_use=values.get("dev_keys", "").lower() == "auto",
        ocr_lang=values.get("ocr_lang", "vie"),
        ocr_engine=_ocr_engine(values.get("ocr_engine", "tesseract")),
        page_timeout=_page_timeout(values.get("page_timeout", "180")),
        pages_per_worker=_pages_per_worker(values.get("pages_per_worker", "50")),
        tessdata_dir=_path(values, "tessdata_dir"),
        active_content=_active_content_policy(values.get("active_content", "reject")),
        second_reader=_second_reader(values.get("second_reader", "auto")),
        # Behind TLS (a public https URL, or said so) the session cookie is sent over HTTPS only.
        secure_cookies=values.get("secure_cookies", "").lower() in {"1", "true", "yes"}
        or (values.get("public_url") or "").startswith("https://"),
        idle_minutes=_idle_minutes(values.get("idle_minutes", "30")),
        officer=values.get("officer") or None,
        legacy_sha1_until=_day(values.get("legacy_sha1_until"), "SOHOA_LEGACY_SHA1_UNTIL"),
        require_paper_type_code=values.get("require_paper_type_code", "").lower() in {"1", "true", "yes"},
        outbox_dead_after_hours=_positive(values.get("outbox_dead_after_hours", "72"),
                                          "SOHOA_OUTBOX_DEAD_AFTER_HOURS"),
        outbox_first_retry_seconds=_positive(values.get("outbox_first_retry_seconds", "5"),
                                             "SOHOA_OUTBOX_FIRST_RETRY_SECONDS"),
        outbox_lease_seconds=_positive(values.get("outbox_lease_seconds", "60"), "SOHOA_OUTBOX_LEASE_SECONDS"),
        national_store_url=values.get("national_store_url") or None,
        national_store_token_url=values.get("national_store_token_url") or None,
        national_store_user=values.get("national_store_user") or None,
        national_store_password=_secret(values, "national_store_password"),
        national_store_unit=values.get("national_store_unit") or None,
        broker_url=values.get("broker_url") or None,
        work_url=values.get("work_url") or None,
    )


def _positive(raw: str, variable: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SettingsError(f"{variable}={raw!r}: give a positive number")
    return value


def _day(raw: str | None, variable: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{variable}={raw!r}: give a day as YYYY-MM-DD") from None


def _idle_minutes(raw: str) -> int:
    try:
        minutes = int(raw)
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 24 * 60:
        raise SettingsError(f"SOHOA_IDLE_MINUTES={raw!r}: give minutes of inactivity before signing out, 1-1440")
    return minutes
