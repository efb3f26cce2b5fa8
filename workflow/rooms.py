"""The composition root: the rooms opened from the settings, once per process, for every face to use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from codes import Agency, AgencyRegistry, Catalogue, load_agencies, load_catalogue
from digitize.ocr import OcrConfig
from signing import Pkcs11Key, Signer, SigningOptions, VerificationReport, load_key_material, verify_pdf
from storage import Archive, Index, ResultStore, open_archive
from workflow.settings import Settings
from workflow.workers import ocr_config

PIPELINE_VERSION = "0.1.0"


@dataclass
class Rooms:
    """The rooms the application layer composes, opened from the settings."""

    settings: Settings
    catalogue: Catalogue
    index: Index
    archive: Archive
    signer: Signer
    agencies: AgencyRegistry = field(default_factory=lambda: AgencyRegistry([]))
    _text_model: object | None = field(default=None, repr=False)
    officer_signers: dict[str, Signer] = field(default_factory=dict, repr=False)  # opened once per process

    @property
    def corrections_path(self) -> Path:
        return self.settings.data_dir / "training" / "corrections.jsonl"

    @property
    def text_model(self):
        """The statistical type model, trained on first use and cached under the data directory."""
        if self._text_model is None:
            from digitize.textmodel import load_or_train

            cache = self.settings.model_cache or self.settings.data_dir / "models"
            self._text_model = load_or_train(self.settings.catalogue, cache, self.corrections_path)
        return self._text_model

    @property
    def ocr(self) -> OcrConfig:
        return ocr_config(self.settings)

    @property
    def trust_roots(self) -> tuple[Path, ...]:
        return self.signer.keys.trust_roots

    def verify(self, pdf: bytes) -> VerificationReport:
        """Every signature of ``pdf`` checked against the configured trust roots and local revocation data."""
        return verify_pdf(pdf, self.trust_roots, crls=self.signer.keys.crls,
                          legacy_sha1_until=self.settings.legacy_sha1_until)

    @property
    def store(self) -> ResultStore:
        return ResultStore(self.archive, self.index)

    def close(self) -> None:
        self.index.close()


def open_rooms(settings: Settings) -> Rooms:
    """Open the index (migrating it), the archive, the keys and the catalogue as ``settings`` say."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)  # originals, the index and the review queue hold personal data
    signer = open_signer(settings)
    archive = open_archive(
        settings.archive_url, s3_endpoint=settings.s3_endpoint, s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key, s3_secure=settings.s3_secure, lock_mode=settings.s3_lock_mode,
        permanent_years=settings.permanent_retention_years,
    )
    index = Index(settings.database_url)
    agencies = load_agencies().merged([Agency(**a) for a in index.agencies.imported()])
    return Rooms(settings, load_catalogue(settings.catalogue), index, archive, signer, agencies)


def open_signer(settings: Settings) -> Signer:
    """The signing room as configured: a PKCS#11 token, a PKCS#12 file or the development keys."""
    token = None
    if settings.pkcs11_module:
        if not (settings.pkcs11_token and settings.pkcs11_key_label and settings.pkcs11_pin):
            raise RuntimeError("SOHOA_PKCS11_MODULE needs SOHOA_PKCS11_TOKEN, SOHOA_PKCS11_KEY_LABEL and "
                               "SOHOA_PKCS11_PIN (or SOHOA_PKCS11_PIN_FILE)")
        token = Pkcs11Key(settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_key_label,
                          settings.pkcs11_pin, settings.pkcs11_cert)
    keys = load_key_material(settings.key_dir, pkcs12_path=settings.signing_key, passphrase=settings.key_passphrase,
                             pkcs11=token, trust_dir=settings.trust_dir,
                             create_dev_keys=settings.dev_keys_on_first_use, agency=settings.agency)
    return Signer(keys, SigningOptions(level=settings.signature_level, tsa_url=settings.tsa_url,
                                       stamp=settings.stamp, public_url=settings.public_url))


def pyhanko_version() -> str:
    from importlib.metadata import version

    return version("pyhanko")
