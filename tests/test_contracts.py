"""The typed contracts: the outcome of a document, a source part, the metadata record, and their schemas."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from jsonschema.exceptions import ValidationError

from storage import DocTypeRef, FileInfo, ResultMetadata, SourceInfo
from tests.schemas import SCHEMAS, assert_valid, validator
from workflow.contracts import OUTCOME_FIELDS, READ_FIELDS, Outcome, SourcePart, Status

SHA = "ab" * 32


def archived_outcome() -> Outcome:
    return Outcome(SourcePart(Path("/scans/a.png")), Status.ARCHIVED, code="000.00.00.H26-KS-230515-0001",
                   doc_type=DocTypeRef("KS", "Giấy khai sinh", 0.97),
                   fields={"number": "125/2020", "issued_on": "2020-04-08", "issuer": "UBND XÃ AN KHÁNH",
                           "holder": "NGUYỄN MINH ANH", "holder_id": None, "issuer_agency": None},
                   level="commune", pages=1, text="GIẤY KHAI SINH", sha256=SHA,
                   archive_key="000.00.00.H26-KS-230515-0001/v1/document.pdf", source_sha256=SHA)


def test_the_schema_lists_exactly_what_the_outcome_writes():
    schema = json.loads((SCHEMAS / "outcome.schema.json").read_text("utf-8"))
    assert set(schema["required"]) == set(archived_outcome().to_dict())
    assert schema["properties"]["status"]["enum"] == [s.value for s in Status]
    fields = schema["properties"]["fields"]
    assert set(fields["properties"]) == set(OUTCOME_FIELDS) and fields["required"] == list(READ_FIELDS)


@pytest.mark.parametrize("outcome", [
    archived_outcome(),
    Outcome(SourcePart(Path("/scans/stack.pdf"), 2), Status.NEEDS_REVIEW, doc_type=DocTypeRef(None, None, 0.31),
            review_reasons=["document type not recognized"], pages=1, text="…", source_sha256=SHA),
    Outcome(SourcePart(Path("/scans/broken.png")), Status.REJECTED, error="the file cannot be read", source_sha256="-"),
    Outcome(SourcePart(Path("/scans/old.png")), Status.SKIPPED, error="already archived"),
], ids=lambda o: str(o.status))
def test_every_status_validates(outcome):
    assert_valid("outcome", json.loads(outcome.to_json()))


def test_the_schema_refuses_what_breaks_the_contract():
    good = archived_outcome().to_dict()
    for broken in ({**good, "status": "done"}, {**good, "code": None}, {**good, "internal": 1},
                   {key: value for key, value in good.items() if key != "fields"},
                   {**good, "fields": {**good["fields"], "issued_on": "08/04/2020"}}):
        with pytest.raises(ValidationError):
            validator("outcome").validate(broken)


@pytest.mark.parametrize(("label", "part"), [
    ("/scans/a.png", SourcePart(Path("/scans/a.png"))),
    ("/scans/stack.pdf#3", SourcePart(Path("/scans/stack.pdf"), 3)),
    ("/scans/hồ sơ #2/a.png", SourcePart(Path("/scans/hồ sơ #2/a.png"))),
    ("/scans/a#b.png", SourcePart(Path("/scans/a#b.png"))),
])
def test_a_source_part_reads_back_what_it_writes(label, part):
    assert SourcePart.parse(label) == part
    assert str(part) == label


def test_metadata_round_trips_and_validates():
    meta = ResultMetadata(
        agency="000.00.00.H26", doc_type=DocTypeRef("KS", "Giấy khai sinh", 0.97),
        fields={"number": "125/2020", "issued_on": "2020-04-08", "issuer": None, "holder": "NGUYỄN MINH ANH"},
        level="commune", pages=1, source=SourceInfo("a.png", SHA, "png"),
        ocr={"engine": "tesseract", "version": "5.3.0", "lang": "vie", "binding": "pytesseract"},
        pipeline_version="0.1.0", signer="CN=DEVELOPMENT", signature={"level": "B-B", "signer": "CN=DEVELOPMENT"},
        evidence=["title"], created_at="2026-12-07T01:00:00+00:00", dossier_code="000.00.00.H26-261124-0042",
        result_alias="000.00.00.H26-261124-0042-KQ1", code="000.00.00.H26-KS-230515-0001", version=1,
        files={"document.pdf": FileInfo(SHA, 10)},
    )
    data = json.loads(json.dumps(meta.to_dict()))
    assert_valid("metadata", data)
    assert ResultMetadata.from_dict(data) == meta
    without_dossier = dataclasses.replace(meta, dossier_code=None, result_alias=None).to_dict()
    assert "dossier_code" not in without_dossier and "result_alias" not in without_dossier
