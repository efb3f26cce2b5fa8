"""The index behaves the same on SQLite and PostgreSQL: migrations, results, inputs, events, sequences."""

from __future__ import annotations

import datetime as dt

from storage import Event, Index, ResultQuery, ResultRecord


def record(code: str, version: int = 1, sha: str = "aa" * 32) -> ResultRecord:
    return ResultRecord(code=code, version=version, source_sha256="bb" * 32, doc_type="KS",
                        doc_type_name="Giấy khai sinh", confidence=0.97, level="commune", agency="000.00.00.H26",
                        fields={"number": "125/2020", "holder": "NGUYỄN MINH ANH"}, pages=1, sha256=sha, size=10,
                        archive_key=f"{code}/v{version}/document.pdf",
                        created_at=dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC), retention="permanent")


def exercise(index: Index) -> dict:
    """The same operations on any database; returns what can be compared across databases."""
    codes = [f"000.00.00.H26-KS-230515-{index.sequences.next_sequence('k'):04d}" for _ in range(3)]
    index.results.add(record(codes[0]), [Event("ingestion", "test", "success", code=codes[0])])
    index.results.add(record(codes[1]))
    index.results.add(record(codes[1], version=2, sha="cc" * 32))  # a new version replaces the row
    index.inputs.record("/scans/a.png", "dd" * 32, "rejected", error="the file is empty (0 bytes)")
    index.inputs.record("/scans/a.png", "dd" * 32, "archived", code=codes[0], doc_type="KS")  # same input again
    index.inputs.record("/scans/b.png", "ee" * 32, "needs_review", review={"reasons": ["số không rõ"]})
    entries = [("sổ đi 2019", "125/QĐ-UBND", "2019-04-08", "Quyết định", "Kiện toàn bộ phận một cửa", "Trần An"),
               ("sổ đi 2019", "7/CT-UBND", "2020-01-02", "Chỉ thị", "Số hóa hồ sơ", "Trần An")]
    imported = [index.registers.add(entries), index.registers.add(entries)]  # the second adds nothing
    # The workspace's tables: a user locked out after failures, an upload taken once, a claim held.
    index.users.add("lan.nguyen", "clerk", "$argon2id$hash")
    for _ in range(3):
        index.users.failed_login("lan.nguyen", 3, dt.timedelta(minutes=15))
    upload = index.uploads.add("b1", "lan.nguyen", "sổ.pdf", "/tmp/x", "ff" * 32, None, "KS")
    taken = [[u.id for u in index.uploads.take(5)], [u.id for u in index.uploads.take(5)]]
    index.uploads.finish(upload, "archived", [{"code": codes[0]}])
    claims = [index.review_claims.claim(7, "lan.nguyen", dt.timedelta(minutes=30)),
              index.review_claims.claim(7, "minh.tran", dt.timedelta(minutes=30)),
              index.review_claims.claim(7, "minh.tran", dt.timedelta(seconds=-1))]  # a stale claim is taken over
    run = index.runs.start("backfill", "/scans", "host:1", 10)
    index.runs.progress(run, 4, 1, 8, [{"source": "a.png", "reason": "empty"}])
    index.runs.finish(run)
    # The outbox: each result wrote its event in its own transaction; a webhook added later gets the later
    # ones; a lease is held once, and given up by finishing.
    hook = index.outbox.add_webhook("http://127.0.0.1:9/hooks", None, "encrypted")
    index.results.add(record(codes[2]))
    first = index.outbox.lease("dispatcher-a", 10, dt.timedelta(minutes=1))
    second = index.outbox.lease("dispatcher-b", 10, dt.timedelta(minutes=1))
    finished = [index.outbox.delivered(lease.delivery_id, "dispatcher-a") for lease in first]
    outbox = ([body["type"] for _position, body in index.outbox.events()], [lease.webhook.id for lease in first],
              len(second), finished, index.outbox.counts(), hook)
    user = index.users.get("lan.nguyen")
    runs = [(r.done, r.failed, r.pages, r.failures, r.finished_at is not None) for r in index.runs.recent()]
    return {
        "outbox": outbox,
        "workspace": (user.failed_logins, user.locked_until is not None, taken == [[upload], []],
                      index.uploads.get(upload).status, claims, runs),
        "registers": (imported, index.registers.entries({2019}), index.registers.summary()),
        "revision": index.revision(),
        "codes": codes,
        "results": [(r.code, r.version, r.sha256, r.fields["holder"], r.created_at)
                    for r in index.results.all()],
        "inputs": [(i.source, i.status, i.error, i.code, i.review) for i in index.inputs.all()],
        "events": [(e.code, e.event_type, e.outcome) for e in index.results.events()],
        # Diacritics ignored both ways, every word a prefix, a new version searched once, ID numbers never.
        "words": {q: index.results.search(ResultQuery(words=q))[0]
                  for q in ("nguyen minh", "NGUYỄN mi", "nguyên anh khai", "minh tran", "125 2020", "", "%")},
    }


def test_index_operations(index_url):
    result = exercise(Index(index_url))
    assert result["revision"] == "0009"
    imported, entries_2019, summary = result["registers"]
    assert imported == [(2, 0), (0, 2)]
    assert [e[1] for e in entries_2019] == ["125/QĐ-UBND"]
    assert summary == [("sổ đi 2019", 2, "2019-04-08", "2020-01-02")]
    assert result["codes"][2].endswith("-0003")
    assert [(r[0][-4:], r[1]) for r in result["results"]] == [("0001", 1), ("0002", 2), ("0003", 1)]
    assert result["results"][0][3] == "NGUYỄN MINH ANH"  # NFC text survives the round trip
    assert result["inputs"] == [
        ("/scans/a.png", "archived", None, result["codes"][0], None),
        ("/scans/b.png", "needs_review", None, None, {"reasons": ["số không rõ"]}),
    ]
    assert result["events"] == [(result["codes"][0], "ingestion", "success")]
    assert result["workspace"] == (0, True, True, "archived", [None, "lan.nguyen", None],
                                   [(4, 1, 8, [{"source": "a.png", "reason": "empty"}], True)])
    assert result["outbox"] == (["result.archived", "result.archived", "result.version", "result.archived"],
                                [1], 0, [True], {"delivered": 1}, 1)
    assert result["words"] == {"nguyen minh": 3, "NGUYỄN mi": 3, "nguyên anh khai": 3, "minh tran": 0,
                               "125 2020": 3, "": 3, "%": 0}  # empty: any


def test_sqlite_and_postgresql_give_the_same_results(tmp_path):
    import pytest

    from tests.servers import drop_postgres_schema, postgres_url

    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
    try:
        assert exercise(Index(f"sqlite:///{tmp_path / 'i.sqlite3'}")) == exercise(Index(url))
    finally:
        drop_postgres_schema(url)


def test_reopening_an_index_keeps_its_data(index_url):
    Index(index_url).results.add(record("000.00.00.H26-KS-230515-0009"))
    again = Index(index_url)
    assert again.revision() == "0009"
    assert again.results.get("000.00.00.H26-KS-230515-0009").doc_type == "KS"


def test_schema_head_constant_is_alembics_newest_revision():
    """The index skips Alembic when the schema is at SCHEMA_HEAD: that must be the newest migration."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.index.schema import MIGRATIONS, SCHEMA_HEAD

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
