"""Shared fixtures: a fresh data directory and rooms per test session, real Tesseract and pyHanko."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Trained text models depend only on catalogue and corrections: one cache for every data dir of the run.
os.environ.setdefault("SOHOA_MODEL_CACHE", str(Path(__import__("tempfile").gettempdir()) / "sohoa-test-models"))
# Tests make development keys on first use in every fresh data directory (production never does).
os.environ.setdefault("SOHOA_DEV_KEYS", "auto")
SAMPLES = ROOT / "samples"
SOHOA = Path(sys.executable).parent / "sohoa"


# Modules whose tests read full pages with Tesseract or run whole batches through `sohoa` (marked `slow`).
SLOW_MODULES = {"test_api", "test_backfill", "test_batches", "test_cleanup", "test_cli", "test_memory",
                "test_pipeline", "test_rejections", "test_s3_pipeline", "test_understanding", "test_workspace"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test needs, so that `make test-fast` can leave out the slow and the served."""
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES or "processed" in needs:
            item.add_marker(pytest.mark.slow)
        if "s3_server" in needs or params.get("archive") == "s3":
            item.add_marker(pytest.mark.s3)
        if params.get("index_url") == "postgresql" or "postgresql" in item.name or "postgres" in item.name:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sohoa-data")


@pytest.fixture(scope="session")
def settings(data_dir):
    from workflow.settings import load_settings

    old = os.environ.get("SOHOA_DATA_DIR")
    os.environ["SOHOA_DATA_DIR"] = str(data_dir)
    try:
        yield load_settings()
    finally:
        if old is None:
            os.environ.pop("SOHOA_DATA_DIR", None)
        else:
            os.environ["SOHOA_DATA_DIR"] = old


@pytest.fixture(scope="session")
def rooms(settings):
    from workflow.rooms import open_rooms

    return open_rooms(settings)


@pytest.fixture(scope="session")
def processed(rooms):
    """Every committed sample processed once through the real pipeline (2 workers)."""
    from workflow.ingest import Ingest, IngestOptions

    outcomes = list(Ingest(rooms, IngestOptions(workers=2)).run([SAMPLES]))
    return {Path(o.source).name: o for o in outcomes}


def run_cli(*args: str, data_dir: Path, check: bool = True, env_extra: dict | None = None,
            **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir), **(env_extra or {})}
    result = subprocess.run([str(SOHOA), *args], capture_output=True, text=True, env=env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"sohoa {' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real SeaweedFS S3 server for the whole test session."""
    from tests.servers import seaweedfs

    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request, tmp_path):
    """The index on SQLite and on PostgreSQL (a schema of its own; skipped if no server answers)."""
    from tests.servers import drop_postgres_schema, postgres_url

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'index.sqlite3'}"
        return
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
    try:
        yield url
    finally:
        drop_postgres_schema(url)


def unnumbered_birth_certificate(folder: Path) -> Path:
    """Sample 01 with its number never written in (the blank after "Số:" empty): it waits for review with
    "number not found", whatever else sohoa reads well."""
    from PIL import Image, ImageDraw

    image = Image.open(SAMPLES / "01-giay-khai-sinh.png").convert("RGB")
    ImageDraw.Draw(image).rectangle((640, 380, 1300, 485), fill=(246, 243, 235))
    path = folder / "01-giay-khai-sinh.png"
    image.save(path, dpi=(300, 300))
    return path


def number_in_margin(folder: Path) -> Path:
    """The unnumbered birth certificate with its number written only in the margin ("Vào sổ: 125/2020",
    as a registry stamp would): it waits for review with "number not found", and the clerk finds the number
    on the page image (one click on the word)."""
    from PIL import Image, ImageDraw, ImageFont

    path = unnumbered_birth_certificate(folder)
    image = Image.open(path)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    ImageDraw.Draw(image).text((1500, 3330), "Vào sổ: 125/2020", font=font, fill=(40, 40, 40))
    image.save(path, dpi=(300, 300))
    return path
