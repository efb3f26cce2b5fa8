"""From the text of a document's pages to what it is and says: type, fields, level, and what a clerk must check."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from codes import AgencyRegistry, Catalogue, InvalidCode, parse_dossier_code
from codes.catalogue import FIELD_NAMES
from digitize.classify import classify, combine
from digitize.fields import (
    cross_check_issuer,
    date_line_place,
    extract_holder,
    extract_issue_date,
    extract_issuer,
    extract_number,
    level_of_issuer,
)
from digitize.model import Classification, CoverSheet, PageText, Understanding

if TYPE_CHECKING:
    from digitize.textmodel import TextModel

MIN_OCR_CONFIDENCE = 55.0
MIN_FIELD_CONFIDENCE = 0.70  # Tesseract word confidence of a required field; bench/understanding.py: 0 silent errors


def understand(pages: list[PageText], catalogue: Catalogue, text_model: TextModel, agencies: AgencyRegistry,
               review_threshold: float) -> Understanding:
    """Classify, extract fields and level, and list what a clerk must check."""
    rules = classify(pages, catalogue)
    text = "\n".join(p.text for p in pages)
    classification = combine(rules, text_model.predict(text), catalogue)
    doc_type = catalogue.get(classification.type_code) if classification.type_code else None
    issuer = cross_check_issuer(extract_issuer(pages), date_line_place(pages))
    number = extract_number(pages, doc_type, issuer.value)
    issued_on = extract_issue_date(pages)
    holder = extract_holder(pages, doc_type)
    issuing_agency = agencies.match_issuer(issuer.value)
    reasons = []
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


def apply_cover(understanding: Understanding, cover: CoverSheet, catalogue: Catalogue) -> Understanding:
    """What the clerk's cover sheet says: the dossier, and the type unless the page clearly says otherwise."""
    reasons = list(understanding.review_reasons)
    try:
        parse_dossier_code(cover.dossier_code)
    except InvalidCode as exc:
        reasons.append(f"cover sheet dossier code is invalid: {exc}")
    cls = understanding.classification
    if cover.doc_type:
        doc_type = catalogue.get(cover.doc_type)
        if doc_type is None:
            reasons.append(f"cover sheet names an unknown type {cover.doc_type}")
        elif cls.type_code not in (None, doc_type.code) and cls.confidence >= 0.9:
            reasons.append(f"cover sheet says {doc_type.name} but the page looks like {cls.type_name}")
        else:
            reasons = [r for r in reasons if not r.startswith(("document type", "document type uncertain"))]
            cls = Classification(doc_type.code, doc_type.name, max(cls.confidence, 0.95),
                                 (*cls.evidence, f"cover sheet: {doc_type.name}"))
    return replace(understanding, classification=cls, review_reasons=tuple(reasons))
