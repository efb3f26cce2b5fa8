"""Document type from layout evidence: the title line under the header, the symbol, "V/v" for công văn."""

from __future__ import annotations

import functools
import re

from rapidfuzz import fuzz

from codes import Catalogue, DocumentType
from digitize.model import Classification, PageText, Segment
from digitize.text import fold, is_subject_line, nfc

TITLE_MIN_SCORE = 0.72
AMBIGUITY_MARGIN = 0.06
# The kind in a number line's symbol; the number itself may be a pen's or a stamp's, read as anything or nothing.
_SYMBOL_RE = re.compile(r"\bS[oóôốồổỗộOÓÔỐỒỔỖỘ6]\s*[:.]?[^/\n]{0,12}?(?:/\d{4})?/([A-ZĐa-zđ]{1,5})-([A-ZĐ0-9]{1,10})")
_CONG_VAN_SYMBOL_RE = re.compile(r"\bS[oóôốồổỗộOÓÔỐỒỔỖỘ6]\s*[:.]?\s*\d+/([A-ZĐ]{2,10})-([A-ZĐ0-9]{2,10})\b")


@functools.lru_cache(maxsize=16384)  # every title line is compared with every catalogue title
def _clean_line(text: str) -> str:
    return re.sub(r"[^\wÀ-ỹ ]+", " ", nfc(text)).upper().split(" (")[0].strip()


def _similarity(line: str, title: str) -> float:
    line_u, title_u = _clean_line(line), _clean_line(title)
    line_u = re.sub(r"\s+", " ", line_u)
    exact = fuzz.ratio(line_u, title_u) / 100
    folded = fuzz.ratio(fold(line_u), fold(title_u)) / 100 * 0.92
    score = max(exact, folded)
    # A title followed by a short qualifier ("PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1").
    if len(line_u) > len(title_u):
        head = line_u[: len(title_u)]
        rest = line_u[len(title_u):].strip()
        if len(rest) <= 12:
            score = max(score, fuzz.ratio(head, title_u) / 100 * 0.97)
    return score


def title_candidates(page: PageText) -> list[Segment]:
    """Centred segments in the upper half of the first page: where Decree 30 puts the title."""
    centre = page.width / 2
    return [
        s for s in page.segments
        if abs(s.center_x - centre) < page.width * 0.12 and s.y < page.height * 0.55 and len(s.text) >= 4
    ]


def _title_lines(candidates: list[Segment]) -> list[str]:
    """Each candidate line, and each two that follow one another closely: a long title is printed on two
    lines ("GIẤY CHỨNG NHẬN CƠ SỞ / ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM")."""
    ordered = sorted(candidates, key=lambda s: s.y)
    lines = [s.text for s in ordered]
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        if 0 <= lower.y - upper.bottom < 1.2 * max(upper.height, lower.height):
            lines.append(f"{upper.text} {lower.text}")
    return lines


def _symbol_kind(text: str) -> str | None:
    match = _SYMBOL_RE.search(text)
    return nfc(match.group(1)) if match else None


def classify(pages: list[PageText], catalogue: Catalogue) -> Classification:
    """Pick the catalogue type of a document and say how sure, and why."""
    if not pages or not pages[0].segments:
        return Classification(None, None, 0.0, ("no text on the first page",))
    first = pages[0]
    candidates = _title_lines(title_candidates(first))
    scored: list[tuple[float, DocumentType, str]] = []
    for doc_type in catalogue:
        best = (0.0, "")
        for line in candidates:
            for title in doc_type.titles:
                score = _similarity(line, title)
                if score > best[0]:
                    best = (score, line)
        if best[0] > 0:
            scored.append((best[0], doc_type, best[1]))
    scored.sort(key=lambda item: item[0], reverse=True)
    header_text = "\n".join(s.text for s in first.segments[:12])
    symbol_kind = _symbol_kind(header_text)
    evidence: list[str] = []

    if scored and scored[0][0] >= TITLE_MIN_SCORE:
        score, doc_type, line = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        evidence.append(f"title line: {line}")
        confidence = score
        other = scored[1][1] if len(scored) > 1 else None
        # A title close to another type's ("QUYET ĐỊNH": Quyết định or Quy định) is told apart by the symbol's
        # kind when it is this type's and not the other's (QĐ, not QyĐ).
        told_apart = bool(symbol_kind and doc_type.abbreviation and other and other.abbreviation
                          and fold(symbol_kind) == fold(doc_type.abbreviation) != fold(other.abbreviation))
        if score - runner_up < AMBIGUITY_MARGIN and not told_apart:
            confidence = min(confidence, 0.6)
            evidence.append(f"close to {scored[1][1].name} ({runner_up:.2f})")
        elif score - runner_up < AMBIGUITY_MARGIN:
            evidence.append(f"close to {scored[1][1].name} ({runner_up:.2f}), told apart by the symbol's kind")
        if symbol_kind and doc_type.abbreviation:
            if fold(symbol_kind) == fold(doc_type.abbreviation):
                confidence = min(1.0, confidence + 0.05)
                evidence.append(f"symbol kind {symbol_kind} agrees")
            else:
                confidence = min(confidence, 0.5)
                evidence.append(f"symbol kind {symbol_kind} disagrees with the title")
        return Classification(doc_type.code, doc_type.name, round(min(confidence, 0.99), 3), tuple(evidence))

    # Công văn: no title, "V/v ..." under the number and a symbol without a kind abbreviation.
    for doc_type in catalogue:
        if not doc_type.subject_marker:
            continue
        has_marker = any(is_subject_line(s.text, doc_type.subject_marker) for s in first.segments[:15])
        if has_marker:
            evidence.append(f"subject line starts with {doc_type.subject_marker}")
            confidence = 0.85
            match = _CONG_VAN_SYMBOL_RE.search(header_text)
            if match and not catalogue_abbreviation(catalogue, match.group(1)):
                confidence = 0.93
                evidence.append(f"symbol {match.group(0).split(':')[-1].strip()} has no kind abbreviation")
            return Classification(doc_type.code, doc_type.name, confidence, tuple(evidence))

    if scored:
        score, doc_type, line = scored[0]
        evidence.append(f"best title match {doc_type.name} only {score:.2f} ({line})")
        return Classification(doc_type.code, doc_type.name, round(score * 0.8, 3), tuple(evidence))
    return Classification(None, None, 0.0, ("no title line matches the catalogue",))


def catalogue_abbreviation(catalogue: Catalogue, abbreviation: str) -> DocumentType | None:
    """The catalogue type whose symbol abbreviation is ``abbreviation`` (accent-insensitive)."""
    for doc_type in catalogue:
        if doc_type.abbreviation and fold(doc_type.abbreviation) == fold(abbreviation):
            return doc_type
    return None


def combine(rules: Classification, guesses: list, catalogue: Catalogue) -> Classification:
    """Merge the layout rules with the text model's guesses (``digitize.textmodel.TypeGuess``).

    Agreement raises the confidence; disagreement lowers it below any review threshold; the model alone
    (no title line, e.g. a garbled one) is trusted a little less than its own probability.
    """
    if not guesses:
        return rules
    top = guesses[0]
    said = f"text model: {top.type_code} ({top.probability:.2f})"
    if rules.type_code is None:
        doc_type = catalogue.get(top.type_code)
        return Classification(top.type_code, doc_type.name if doc_type else None,
                              round(0.9 * top.probability, 3), (*rules.evidence, said))
    if top.type_code == rules.type_code:
        agreed = 1 - (1 - rules.confidence) * (1 - top.probability)
        return Classification(rules.type_code, rules.type_name, round(min(0.99, agreed), 3),
                              (*rules.evidence, f"{said} agrees"))
    if top.probability >= 0.5:
        return Classification(rules.type_code, rules.type_name, round(min(rules.confidence, 0.5), 3),
                              (*rules.evidence, f"{said} disagrees"))
    return Classification(rules.type_code, rules.type_name, rules.confidence, (*rules.evidence, said))
