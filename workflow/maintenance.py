"""Keeping the archive sound and reporting on it: targets report, timestamp renewal (PAdES B-LTA), audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codes import VIETNAM_TIME, TargetsReport, compute_targets_report, load_targets
from storage import AuditReport, Event, ResultRecord, Retention, audit
from storage.layout import DOCUMENT
from workflow.rooms import PIPELINE_VERSION, Rooms, pyhanko_version


def targets_report(rooms: Rooms, year: int) -> TargetsReport:
    """Progress against the digitization targets of ``year``: denominators and counts from the index."""
    end_of_year = dt.datetime(year + 1, 1, 1, tzinfo=VIETNAM_TIME)
    return compute_targets_report(year, rooms.index.agencies.valid_results(year),
                                  rooms.index.results.digitized_by_issuer(end_of_year), rooms.agencies,
                                  load_targets())


@dataclass
class Renewal:
    code: str
    old_version: int
    new_version: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def renew_timestamps(rooms: Rooms, codes: list[str] | None = None, within_days: int = 365) -> list[Renewal]:
    """Add a fresh document timestamp (PAdES B-LTA) to archived results, each as a new version.

    A result is renewed when it has no document timestamp yet, or when the certificate of its newest one
    expires within ``within_days``.  The earlier version stays untouched (write-once archive).
    """
    now = dt.datetime.now(dt.UTC)
    renewals = []
    records = [rooms.index.results.get(c) for c in codes] if codes else rooms.index.results.all()
    for record in records:
        if record is None:
            continue
        document = rooms.store.read_document(record)
        report = rooms.verify(document.data)
        problems = document.problems + report.problems
        if problems:
            renewals.append(Renewal(record.code, record.version, None,
                                    "not renewed: the signatures do not verify: " + "; ".join(problems)))
            continue
        stamps = [s for s in report.signatures if s.kind == "document timestamp"]
        if stamps and stamps[-1].certificate_valid_until:
            expires = dt.datetime.fromisoformat(stamps[-1].certificate_valid_until)
            if expires - now > dt.timedelta(days=within_days):
                continue
            reason = f"document timestamp certificate expires on {expires:%Y-%m-%d}"
        else:
            reason = "no document timestamp yet"
        renewed = rooms.signer.add_archive_timestamp(document.data)
        renewals.append(Renewal(record.code, record.version, _store_renewal(rooms, record, renewed, reason), reason))
    return renewals


def _store_renewal(rooms: Rooms, record: ResultRecord, pdf: bytes, reason: str) -> int:
    store = rooms.store
    old = store.metadata(record.code, record.version)
    files: dict[str, bytes | Path] = {name: store.read(record.code, record.version, name)
                                      for name in old.files if name != DOCUMENT}
    files[DOCUMENT] = pdf
    renewed_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    metadata = old.replace(signature={**old.signature, "renewed_at": renewed_at, "level": "B-LTA",
                                      "renewal_reason": reason})
    doc_type = rooms.catalogue.get(record.doc_type)
    retention = Retention.from_catalogue(doc_type.retention if doc_type else record.retention)
    event = Event("timestamp_renewal", f"pyHanko {pyhanko_version()}", "success",
                  f"validation data and a document timestamp added to v{record.version} ({reason})", code=record.code)
    return store.write(record.code, files, metadata, retention, [event]).version


def audit_archive(rooms: Rooms, sample: int | None = None, repair: bool = False) -> AuditReport:
    """Fixity audit: storage re-reads and re-hashes, signing re-verifies each signed PDF."""
    def check_document(pdf: bytes) -> list[str]:
        return rooms.verify(pdf).problems

    return audit(rooms.store, check_document, sample=sample, repair=repair, agent=f"sohoa {PIPELINE_VERSION} audit")


LEVEL_NAMES = {"ministry": "Bộ", "province": "Tỉnh", "district": "Huyện", "commune": "Xã"}


def draw_targets_chart(figures: TargetsReport, path: Path) -> None:
    """A bar chart of the targets report per level (PNG); needs the ``chart`` extra (matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("the chart needs matplotlib: pip install -e '.[chart]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in figures.levels if r.valid]
    labels = [LEVEL_NAMES.get(r.level, r.level) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    done = [100 * (r.percent or 0) for r in rows]
    bars = ax.bar(labels, done, color=["#2e7d32" if r.meets_target else "#c62828" for r in rows])
    for bar, row in zip(bars, rows, strict=True):
        if row.target is not None:
            ax.hlines(100 * row.target, bar.get_x(), bar.get_x() + bar.get_width(), colors="black",
                      linestyles="dashed")
        ax.annotate(f"{row.digitized}/{row.valid}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("Tỷ lệ đã số hóa (%)")
    ax.set_ylim(0, max([*done, *(100 * (r.target or 0) for r in rows), 10]) * 1.25)
    ax.set_title(f"Số hóa kết quả giải quyết TTHC còn hiệu lực — năm {figures.year}\n(vạch đứt: chỉ tiêu)")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
