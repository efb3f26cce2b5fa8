"""From the text of a document's pages to what it is and says: type, fields, level, and what a clerk must check."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from codes import AgencyRegistry, Catalogue, DocumentType, InvalidCode, parse_dossier_code
from codes.catalogue import FIELD_NAMES
from digitize.classify import classify, combine
from digitize.fields import (
    check_symbol,
    confirm_holder,
    confirm_with_rereads,
    cross_check_issuer,
    date_line_place,
    extract_holder,
    extract_issue_date,
    extract_issuer,
    extract_number,
    level_of_issuer,
    number_line,
    symbol_fits,
)
from digitize.model import Classification, CoverSheet, FieldValue, PageText, Understanding
from digitize.registers import RegisterEntry, match_register
from digitize.text import fold, strip_accents

if TYPE_CHECKING:
    from digitize.textmodel import TextModel

MIN_OCR_CONFIDENCE = 55.0
MIN_FIELD_CONFIDENCE = 0.70  # Tesseract word confidence of a required field; bench/understanding.py: 0 silent errors


def understand(pages: list[PageText], catalogue: Catalogue, text_model: TextModel, agencies: AgencyRegistry,
               review_threshold: float, register: Sequence[RegisterEntry] = ()) -> Understanding:
    """Classify, extract fields and level, and list what a clerk must check.

    ``register``: entries of the issuing registers; a number or date that could not be read surely is
    taken from the one entry the document strongly and alone matches.
    """
    rules = classify(pages, catalogue)
    text = "\n".join(p.text for p in pages)
    classification = combine(rules, text_model.predict(text), catalogue)
    doc_type = catalogue.get(classification.type_code) if classification.type_code else None
    issuer = cross_check_issuer(extract_issuer(pages), date_line_place(pages))
    number = extract_number(pages, doc_type, issuer.value)
    labelled = doc_type is not None and any(fold(number.evidence or "").startswith(fold(label))
                                            for label in doc_type.number_labels)
    number = confirm_with_rereads(number, pages, "number_label" if labelled else "number",
                                  None if labelled else symbol_fits(doc_type, issuer.value))
    issued_on = confirm_with_rereads(extract_issue_date(pages), pages, "issued_on")
    number = check_symbol(number, doc_type, issuer.value, int(issued_on.value[:4]) if issued_on.value else None)
    holder = confirm_holder(extract_holder(pages, doc_type), pages)
    issuing_agency = agencies.match_issuer(issuer.value)
    reasons = []
    if register and doc_type is not None and min(number.confidence, issued_on.confidence) < MIN_FIELD_CONFIDENCE:
        number, issued_on, question = _from_register(register, doc_type, text, number_line(pages), number,
                                                     issued_on)
        if question:
            reasons.append(question)
    if doc_type is None:
        reasons.append("document type not recognized: " + "; ".join(classification.evidence))
    elif classification.confidence < review_threshold:
        reasons.append(f"document type uncertain ({classification.confidence:.2f}): "
                       + "; ".join(classification.evidence))
    if doc_type is not None:
        values = dict(zip(FIELD_NAMES, (number, issued_on, issuer, holder), strict=True))
        for name in doc_type.required:
            if not values[name].value:
                reasons.append(f"{name} not found" + (f" ({values[name].note})" if values[name].note else ""))
            elif values[name].confidence < MIN_FIELD_CONFIDENCE:
                note = f" ({values[name].note})" if values[name].note else ""
                reasons.append(f"{name} read uncertainly ({values[name].confidence:.2f}): check it{note}")
    if issuer.note and (doc_type is None or "issuer" not in doc_type.required):
        # Not a required field, but two readings of it disagree: the level and agency follow from it.
        reasons.append(f"issuer read uncertainly ({issuer.confidence:.2f}): check it ({issuer.note})")
    if doc_type is not None:
        # A field the type does without (a biên bản's number) is archived when read: read unsurely, it waits too.
        for name, field in (("number", number), ("issued_on", issued_on), ("holder", holder)):
            if name not in doc_type.required and field.value and field.confidence < MIN_FIELD_CONFIDENCE:
                note = f" ({field.note})" if field.note else ""
                reasons.append(f"{name} read uncertainly ({field.confidence:.2f}): check it{note}")
    ocr_pages = [p for p in pages if p.source == "ocr"]
    if ocr_pages:
        mean = sum(p.mean_confidence for p in ocr_pages) / len(ocr_pages)
        if mean < MIN_OCR_CONFIDENCE:
            reasons.append(f"text hard to read (OCR confidence {mean:.0f}/100): check or rescan")
    level = level_of_issuer(issuer.value) or (issuing_agency.level if issuing_agency else None)
    if doc_type is not None and level is None:
        # The level files the result under a target; a header read without its unit is read wrongly.
        reasons.append(f"issuing level unknown: the header reads {issuer.value or 'nothing'!r}, with no province, "
                       "district, commune or ministry: check the issuer")
    return Understanding(classification, number, issued_on, issuer, holder, level, tuple(reasons),
                         issuing_agency.id if issuing_agency else None)


def _from_register(register: Sequence[RegisterEntry], doc_type: DocumentType, text: str, line: str | None,
                   number: FieldValue, issued_on: FieldValue) -> tuple[FieldValue, FieldValue, str | None]:
    """Number and date from the issuing register's matching entry, or a question for the clerk."""
    sure_date = issued_on.value if issued_on.confidence >= MIN_FIELD_CONFIDENCE else None
    month_year = None
    if not sure_date and issued_on.evidence:
        found = re.search(r"thang\s*(\d{1,2})\s*nam\s*(\d{4})", strip_accents(issued_on.evidence), re.IGNORECASE)
        month_year = (int(found.group(1)), int(found.group(2))) if found else None
    match = match_register(register, doc_type, text, line, sure_date, month_year)
    if match is None:
        return number, issued_on, None
    if match.entry is None:
        return number, issued_on, match.evidence
    entry = match.entry
    if number.value and number.confidence >= MIN_FIELD_CONFIDENCE and number.value != entry.number:
        return number, issued_on, f"the page reads number {number.value}, {match.evidence}: check which is right"
    return (FieldValue(entry.number, 0.85, match.evidence),
            FieldValue(entry.issued_on, 0.85, match.evidence) if not sure_date else issued_on, None)


def apply_cover(understanding: Understanding, cover: CoverSheet, catalogue: Catalogue) -> Understanding:
    """What the clerk's cover sheet says: the dossier, and the type unless the page clearly says otherwise."""
    reasons = list(understanding.review_reasons)
    try:
        parse_dossier_code(cover.dossier_code)
    except InvalidCode as exc:
        reasons.append(f"cover sheet dossier code is invalid: {exc}")
    understanding = replace(understanding, review_reasons=tuple(reasons))
    return apply_given_type(understanding, cover.doc_type, catalogue, "cover sheet") if cover.doc_type \
        else understanding


def apply_given_type(understanding: Understanding, type_code: str, catalogue: Catalogue,
                     given_by: str) -> Understanding:
    """The type a clerk gave (on a cover sheet, at the counter), unless the page clearly says otherwise."""
    reasons = list(understanding.review_reasons)
    cls = understanding.classification
    doc_type = catalogue.get(type_code)
    if doc_type is None:
        reasons.append(f"{given_by} names an unknown type {type_code}")
    elif cls.type_code not in (None, doc_type.code) and cls.confidence >= 0.9:
        reasons.append(f"{given_by} says {doc_type.name} but the page looks like {cls.type_name}")
    else:
        reasons = [r for r in reasons if not r.startswith(("document type", "document type uncertain"))]
        cls = Classification(doc_type.code, doc_type.name, max(cls.confidence, 0.95),
                             (*cls.evidence, f"{given_by}: {doc_type.name}"))
    return replace(understanding, classification=cls, review_reasons=tuple(reasons))
