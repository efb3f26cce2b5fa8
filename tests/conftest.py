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


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sohoa-data")


@pytest.fixture(scope="session")
def settings(data_dir):
    from settings import load_settings

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
    from digitize.pipeline import open_rooms

    return open_rooms(settings)


@pytest.fixture(scope="session")
def processed(rooms):
    """Every committed sample processed once through the real pipeline (2 workers)."""
    from digitize.pipeline import Pipeline

    outcomes = list(Pipeline(rooms, workers=2).process([SAMPLES]))
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
