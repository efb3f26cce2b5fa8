"""Milliseconds per archived result (1.4 MB signed PDF + original + text, read back and verified,
metadata, manifest, index row): local folder against S3 (SeaweedFS started here), in one run.

Usage: .venv/bin/python bench/storage_write.py [COUNT]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import Index, LocalArchive, ResultStore, S3Archive  # noqa: E402
from tests.servers import seaweedfs  # noqa: E402
from tests.test_storage import write_result  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    pdf = os.urandom(1_400_000)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "sw").mkdir()
        with seaweedfs(tmp / "sw") as server:
            backends = [("local", LocalArchive(tmp / "archive")),
                        ("s3", S3Archive(f"bench-{uuid.uuid4().hex[:8]}", server.endpoint, server.access_key,
                                         server.secret_key))]
            timings = {}
            for name, archive in backends:
                store = ResultStore(archive, Index(f"sqlite:///{tmp / (name + '.sqlite3')}"))
                started = time.perf_counter()
                for i in range(1, count + 1):
                    write_result(store, f"000.00.00.H26-KS-230515-{i:04d}", pdf)
                timings[name] = (time.perf_counter() - started) / count * 1000
    for name, ms in timings.items():
        print(f"{name:<6} {ms:7.1f} ms per result")
    print(f"s3/local ratio: {timings['s3'] / timings['local']:.2f}")


if __name__ == "__main__":
    main()
