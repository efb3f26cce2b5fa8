"""Key fields of a document (number, issue date, issuer, holder, ID number) and its administrative level."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from codes import DocumentType
from digitize.model import FieldValue, PageText, Reread, Segment
from digitize.places import correct_place_names, gazetteer, unknown_places
from digitize.text import fold, is_subject_line, modern_tone_marks, nfc, parse_vietnamese_date, strip_accents

_NUMBER_RE = re.compile(r"^[\W_]{0,3}S[oóôốồổỗộOÓÔỐỒỔỖỘ6]\s*[:.;]?\s*([0-9Il|\]oO][0-9A-Za-zĐđ/.\-]*)")
# A leading 1 that OCR read as a letter or bracket ("Số: I22/XNCT"), a leading 0 or a pen's 9 read as o ("o11").
# The number line, even with its number left blank ("Số:      /TB-UBND").
# Header lines only: OCR reads the capital S of "Số:" as "s" now and then ("số: 718 /GGT-UBND").
# A letter no symbol has (ổ, ư, ơ: not ASCII) right after a digit: a pen's digit misread ("81ổ/2013" of 818/2013).
GLUED_LETTER_RE = re.compile(r"\d[^\W\dA-Za-z_Đđ]")
NUMBER_LINE_RE = re.compile(r"^[\W_]{0,3}[Ss][oóôốồổỗộOÓÔỐỒỔỖỘ6]\s*[:.;]")  # "SỐ:" printed in capitals too
_NUMBER_LOOKALIKES = str.maketrans({"I": "1", "l": "1", "|": "1", "]": "1", "o": "0", "O": "0"})
_PERSONAL_ID_RE = re.compile(r"(?<!\d)(\d{12})(?!\d)")
_CENTRAL_CITIES = ("HA NOI", "HO CHI MINH", "HAI PHONG", "DA NANG", "CAN THO", "HUE")


def _header(page: PageText) -> tuple[list[Segment], list[Segment]]:
    """Left and right header segments of the first page (above the first centred segment)."""
    centre = page.width / 2
    left, right = [], []
    for seg in page.segments:
        if abs(seg.center_x - centre) < page.width * 0.08:
            break
        (left if seg.center_x < centre else right).append(seg)
    return left, right


_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})  # Icelandic eth, the usual misreading of Đ
_SLASHES = str.maketrans({"⁄": "/", "∕": "/", "／": "/", "–": "-", "—": "-", "Ð": "Đ"})


def _tight(text: str) -> str:
    """Join symbol parts OCR split with spaces: "Số: 507/ UBN D-KGVX" → "Số: 507/UBND-KGVX", "445 /TTr-VP"
    → "445/TTr-VP" (a number written into a blank stands apart from the printed rest)."""
    text = re.sub(r"(?<=[-/])\.|\.(?=[-/])", "", text.translate(_SLASHES))  # a speck by a hyphen: "TP-.HT"
    match = re.match(r"^([\W_]{0,3}S\S{0,2}\s*[:.;]?\s*)(.*)$", text)
    if match and re.fullmatch(r"[0-9A-Za-zĐđ/.\- ]+", match.group(2)) and re.match(r"[0-9Il|\]]", match.group(2)):
        # Joined, a speck may come next to a slash: "432. /HD-UBND" → "432/HD-UBND".
        # Decree 30 never doubles a slash or a hyphen: a second one is a speck ("763/2023//TLKT").
        joined = re.sub(r"(?<=[-/])\.+|\.+(?=[-/])", "", match.group(2).replace(" ", ""))
        return match.group(1) + re.sub(r"([/-])[/-]+", r"\1", joined)
    return text


def value_confidence(seg: Segment, value: str) -> float:
    """Lowest OCR confidence (0-1) among the words of ``seg`` that make up ``value``."""
    compact = value.replace(" ", "")
    parts = [w for w in seg.words
             if any(c.isalnum() for c in w.text) and w.text.strip(" .,;:").replace(" ", "") in compact]
    return min((w.conf for w in parts), default=0.0) / 100


_RULES = r"(?:[^\w\s(]{1,3}\s+){0,3}\s*"  # marks of a table's rules read before a label, each apart


def _labelled_value(segments: list[Segment], label: str, continues: bool = False
                    ) -> tuple[str, str, float] | None:
    """Value after ``label:`` on a segment, matched without accents; cut at the next sentence or label.

    The label may follow a list mark ("1.", "-", "a)"); the value ends where a second labelled column
    starts ("TRẦN VĂN AN  Giới tính: Nam").  With ``continues``, an upper-case next segment with no label of
    its own is the value's second line.
    """
    label_folded = fold(label)
    # A comma of the label may be lost in reading ("Họ, chữ đệm tên").
    pattern = re.escape(label_folded).replace(r"\ ", r"\s*").replace("/", r"\s*/\s*").replace(",", ",?")
    for i, seg in enumerate(segments):
        text = nfc(seg.text)
        folded_text = strip_accents(text).upper()
        # A table's rules read as marks before the label ("- : — Họ, chữ đệm, tên. :") are no part of it.
        match = re.match(rf"{_RULES}(?:[-+•*]|\d{{1,2}}[.)]|[a-đ]\))?\s*{pattern}\s*(?:[:.;|]\s*){{1,3}}",
                         folded_text) or \
            re.fullmatch(rf"{_RULES}(?:[-+•*]|\d{{1,2}}[.)])?\s*{pattern}[\s.:|]*", folded_text)  # a label cell
        if not match:
            continue
        value, value_seg = text[match.end():], seg
        if not value.strip():
            cell = _cell_right_of(segments, i)
            if cell is None:
                continue
            value, value_seg = nfc(cell.text), cell
        # Marks before the value (a cell's rule or dot leader: ". ĐINH CÔNG LỘC") are no sentence end.
        value = re.sub(r"^(?:[^\w(]|_)+", "", _NEXT_LABEL_RE.split(value, maxsplit=1)[0])
        cut = re.split(r"\.\s+(?=[A-ZÀ-Ỹ])", value)
        value = cut[0].strip(" .;,")
        confidence = value_confidence(value_seg, value)
        if continues and value_seg is seg and len(cut) == 1 and i + 1 < len(segments):
            nxt = segments[i + 1]
            # The second line starts under the label, or, for a name cut after its first word ("tên: CAO" /
            # "XUÂN ƯỚC", a narrow cell), under the value.
            value_x = next((w.x for w in seg.words if value and w.text.startswith(value.split()[0])), None)
            under_value = len(value.split()) == 1 and value_x is not None and abs(nxt.x - value_x) <= 2 * seg.height
            if nxt.text.isupper() and ":" not in nxt.text and (nxt.x <= seg.x + seg.height or under_value):
                value = f"{value} {nxt.text.strip(' .;,')}"
                confidence = min(confidence, value_confidence(nxt, nxt.text))
        if value:
            return value, seg.text, confidence
    return None


def _cell_right_of(segments: list[Segment], i: int) -> Segment | None:
    """The segment right of segment ``i`` on the same line (a table row's value cell), if any."""
    seg = segments[i]
    for other in segments[i + 1:i + 4]:
        same_line = other.y < seg.bottom and seg.y < other.bottom
        if same_line and other.x > seg.right:
            return other
    return None


# A second label on the same line: a capitalized word, lower-case words, a colon ("Giới tính:", "Sinh ngày:").
_NEXT_LABEL_RE = re.compile(r"\s+(?=[A-ZÀ-Ỹ][a-zà-ỹ]*(?:\s+[a-zà-ỹ]+){0,4}\s*:)")
# Honorifics and their forms that precede a holder's name but are not part of it.
_HONORIFIC_RE = re.compile(r"^(?:\(?\s*(?:Ông|Bà|ông|bà|ÔNG|BÀ)\s*\)?\s*(?:[/(]\s*(?:Ông|Bà|ông|bà|ÔNG|BÀ)\s*\)?)?"
                           r"\s*[:.]?\s+)+")


def _initials(name: str) -> set[str]:
    """Abbreviations an issuer's name can take in a document symbol: ỦY BAN NHÂN DÂN → UBND, SỞ KẾ HOẠCH VÀ
    ĐẦU TƯ → SKHĐT (folded: SKHDT; "và" is left out of abbreviations)."""
    found = set()
    for words in (fold(name).replace("-", " ").split(), fold(name).replace("-", " ").replace(" VA ", " ").split()):
        found |= {"".join(w[0] for w in words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)}
    return found


def _symbol_confidence(seg: Segment, number: str, issuer: str | None) -> float:
    """Confidence of a document symbol: its digits as read, its letter parts also checked against the issuer.

    A letter-only part such as UBND that matches the issuer's initials is confirmed by the header, so a
    low OCR confidence on it alone does not make the number uncertain; digits are never excused.
    """
    confirmed = {part for part in re.split(r"[/\-]", number) if part.isalpha() and fold(part) in _initials(issuer)}\
        if issuer else set()
    compact = number.replace(" ", "")
    scores = []
    for word in seg.words:
        token = word.text.strip(" .,;:").replace(" ", "")
        if not any(c.isalnum() for c in token) or token not in compact or fold(token).startswith("SO"):
            continue
        letters_only = re.fullmatch(r"[A-ZĐ]+", token)
        if letters_only and any(token in part for part in confirmed):
            continue
        scores.append(word.conf / 100)
    return min(scores, default=0.9)


def _restore_hyphen(text: str, doc_type: DocumentType | None) -> str:
    """Decree 30 symbols are number/KIND-ISSUER: a hyphen OCR lost after the kind's abbreviation, which the
    title already established, is put back ("287/CTUB" → "287/CT-UB")."""
    if doc_type is None or not doc_type.abbreviation:
        return text
    kind = re.escape(doc_type.abbreviation)
    return re.sub(rf"(\d/{kind})(?=[A-ZĐ]{{2,}})", r"\1-", text)


def extract_number(pages: list[PageText], doc_type: DocumentType | None, issuer: str | None = None) -> FieldValue:
    segments = [s for p in pages for s in p.segments]
    for label in doc_type.number_labels if doc_type else ():
        found = _labelled_value(segments, label)
        if found:
            value = re.match(r"[0-9A-Za-z/.\-]+", found[0].replace(" ", ""))
            if value:
                return FieldValue(value.group(0), min(0.95, found[2]), found[1])
    left, _ = _header(pages[0]) if pages else ([], [])
    for seg in left + segments:
        text = re.sub(r"^([\W_]{0,3})s", r"\1S", seg.text) if seg in left and NUMBER_LINE_RE.match(seg.text) \
            else seg.text
        tight = _restore_hyphen(_tight(text), doc_type)
        match = _NUMBER_RE.match(tight)
        number = _document_number(match.group(1).rstrip(".-/")) if match else None
        if number:
            confidence = min(0.9, _symbol_confidence(seg, number[0], issuer))
            note = None
            if number[1]:  # a digit guessed from a look-alike is never archived unchecked
                confidence = min(confidence, 0.4)
            rest = tight[match.end():].strip(" .,;")
            if rest and (re.match(r"[/\-0-9A-ZĐ]", rest) or GLUED_LETTER_RE.search(tight[match.end() - 1:])):
                # More of the symbol follows, apart: the number may be cut ("55" of "55 2017/KH").
                confidence, note = min(confidence, 0.4), f"the number line reads {seg.text!r}"
            elif doc_type is not None and doc_type.kind == "admin" and "/" not in number[0]:
                # Decree 30: an administrative document's symbol is number/KIND-ISSUER.
                confidence, note = min(confidence, 0.4), f"the symbol is incomplete: the line reads {seg.text!r}"
            elif doc_type is not None and doc_type.kind == "admin" and "-" not in number[0].partition("/")[2]:
                # Decree 30: after the number come the kind and the issuer (or the issuer and its unit), with
                # a hyphen between; one lost in reading cannot be put back without knowing the issuer's code.
                confidence, note = min(confidence, 0.5), f"the symbol has no hyphen: the line reads {seg.text!r}"
            elif doc_type is not None and doc_type.number_labels:
                # This type's number follows its own label ("Mã số doanh nghiệp"), which was not found.
                confidence = min(confidence, 0.4)
                note = f"no {doc_type.number_labels[0]!r} found; the header reads {seg.text!r}"
            return FieldValue(number[0], confidence, seg.text, note)
        if NUMBER_LINE_RE.match(seg.text) and seg in left:
            return FieldValue(None, 0.0, seg.text, f"the number is blank or unreadable: the line reads {seg.text!r}")
    return FieldValue(None, 0.0)


def _document_number(raw: str) -> tuple[str, bool] | None:
    """(number, whether a digit was guessed): a number that starts with a look-alike must be all digits
    before its first "/" once read back ("I22" → "122"), else it is not a number (None)."""
    if raw[:1].isdigit():
        return raw, False
    head, slash, rest = raw.partition("/")
    digits = head.translate(_NUMBER_LOOKALIKES)
    if not digits.isdigit() or not any(c.isdigit() for c in head):
        return None
    return digits + slash + rest, digits != head


_DATE_LINE_RE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b", re.IGNORECASE)


def extract_issue_date(pages: list[PageText]) -> FieldValue:
    """The "<place>, ngày … tháng … năm …" line of the header, else the first written date.

    A header date line whose day or month is blank or unreadable is the issue date not read: a date
    further down (a meeting, a law) is another date, never taken in its place.
    """
    if not pages:
        return FieldValue(None, 0.0)
    _, right = _header(pages[0])
    for seg in right:
        if _DATE_LINE_RE.search(strip_accents(seg.text)) and not parse_vietnamese_date(seg.text):
            return FieldValue(None, 0.0, seg.text, "the day or month of the date line is blank or unreadable")
    for seg in right + list(pages[0].segments):
        found = parse_vietnamese_date(seg.text)
        if found and 1945 <= found.year <= 2100:
            digits = [w.conf for w in seg.words if any(c.isdigit() for c in w.text)]
            read = min(digits, default=0.0) / 100
            # Letters standing in for digits ("0S") mean the date was guessed, not read.
            clean_digits = re.search(r"ng[aà]y\s*\d{1,2}\s*th[aá]ng\s*\d{1,2}\s*n[aă]m\s*\d{4}",
                                     strip_accents(seg.text), re.IGNORECASE) is not None
            # A guessed digit is never archived unchecked: below the review threshold.  Nor is a date of the body
            # that does not say it is the issue's ("cấp ngày", "ngày ký"): a meeting's or a law's, when the
            # header's date line was not read at all.
            says_issued = re.search(r"\b(CAP|KY|BAN HANH)\b", fold(seg.text)) is not None
            confidence = min(0.95 if seg in right else 0.7 if says_issued else 0.6, read,
                             1.0 if clean_digits else 0.4)
            note = None if seg in right or says_issued else "a date of the body: the header's date line was not read"
            return FieldValue(found.isoformat(), confidence, seg.text, note)
    return FieldValue(None, 0.0)


def date_line_place(pages: list[PageText]) -> str | None:
    """The place that opens the date line of the header ("Dương Liễu" in "Dương Liễu, ngày 08 tháng 4 …")."""
    if not pages:
        return None
    _, right = _header(pages[0])
    for seg in right:
        if parse_vietnamese_date(seg.text):
            place = nfc(seg.text).split(",", 1)[0].strip(" .")
            return place if 1 <= len(place.split()) <= 5 and "," in seg.text else None
    return None


def cross_check_issuer(issuer: FieldValue, place: str | None) -> FieldValue:
    """The issuer's place name against the date line's: same letters but other marks is a misreading.

    Decree 30 prints the issuing body's place twice (header, upper case; date line, mixed case).  When the
    two read alike but for a diacritic ("THANH ĐÔNG" / "Thạnh Đông"), one of them is wrong: the one that is
    in the gazetteer of administrative units, when only one is; else nothing says which, and the issuer is
    marked uncertain for a clerk to check.
    """
    if not issuer.value or not place:
        return issuer
    printed = modern_tone_marks(issuer.value).upper().split()
    expected = modern_tone_marks(place).upper().split()
    n = len(expected)
    for i in range(len(printed) - n + 1):
        window = printed[i:i + n]
        if [strip_accents(w) for w in window] == [strip_accents(w) for w in expected]:
            if window != expected:
                header_known, line_known = gazetteer().known(" ".join(window)), gazetteer().known(" ".join(expected))
                if header_known != line_known:
                    if header_known:
                        return issuer
                    words = modern_tone_marks(issuer.value).split()
                    value = " ".join(words[:i] + expected + words[i + n:])
                    settled = issuer.note is None or not unknown_places(value)
                    return replace(issuer, value=value, evidence=f"{issuer.evidence} (the header reads "
                                   f"{' '.join(window)}, the date line and the list of units {' '.join(expected)})",
                                   confidence=0.85 if settled else issuer.confidence,
                                   note=None if settled else issuer.note)
                return replace(issuer, confidence=min(issuer.confidence, 0.5),
                               note=f"the header reads {' '.join(window)}, the date line {' '.join(expected)}")
            if issuer.note and _places_confirmed(issuer.value, expected):
                # A place missing from the list, read alike twice (header and date line): a real one.
                return replace(issuer, confidence=0.85, note=None,
                               evidence=f"{issuer.evidence} (not in the list of units; the date line reads it alike)")
            return issuer
    return issuer


def _places_confirmed(issuer: str, date_line_place: list[str]) -> bool:
    """Whether every place the list of units does not know in the issuer is the date line's place, and no
    name of the list has its letters with other marks: "THANH ĐÔNG" read twice, where the list has THẠNH ĐÔNG
    and THÀNH ĐÔNG, is the same slip made twice (seen on fresh seeds 262_626), not a place of its own."""
    unknown = unknown_places(issuer)
    levels = ("provinces", "districts", "communes")
    return bool(unknown) and all(
        place.split()[:len(date_line_place)] == date_line_place[:len(place.split())]
        and not gazetteer().spellings(place, levels) for _, place in unknown)


# Words that open a line of an issuing body's name, by their letters without marks: OCR often misplaces a
# capital's mark there ("TĨNH QUẢNG BÌNH", "PHƯƠNG SƠN KIM"), and these words have one spelling only.
_UNIT_WORDS = {"TINH": "TỈNH", "PHUONG": "PHƯỜNG", "HUYEN": "HUYỆN", "XA": "XÃ", "SO": "SỞ", "QUAN": "QUẬN",
               "PHONG": "PHÒNG", "BO": "BỘ", "CUC": "CỤC"}
_UNIT_PAIRS = {("THI", "TRAN"): "THỊ TRẤN", ("THI", "XA"): "THỊ XÃ", ("THANH", "PHO"): "THÀNH PHỐ",
               ("UY", "BAN"): "ỦY BAN"}
# Department names that follow "SỞ" or "PHÒNG", by their letters without marks.
_DEPARTMENT_WORDS = {"Y TE": "Y TẾ", "TU PHAP": "TƯ PHÁP", "NOI VU": "NỘI VỤ", "XAY DUNG": "XÂY DỰNG",
                     "GIAO THONG VAN TAI": "GIAO THÔNG VẬN TẢI", "KE HOACH VA DAU TU": "KẾ HOẠCH VÀ ĐẦU TƯ",
                     "TAI CHINH": "TÀI CHÍNH", "GIAO DUC VA DAO TAO": "GIÁO DỤC VÀ ĐÀO TẠO"}


def _unit_line(line: str) -> str:
    """An issuer line with its opening unit word (and a department's name) in their only spelling."""
    words = line.split()
    if not words or not all(w.isupper() for w in words if w.isalpha()):
        return line
    bare = [strip_accents(w) for w in words]
    if len(words) >= 2 and (bare[0], bare[1]) in _UNIT_PAIRS:
        words[:2] = _UNIT_PAIRS[(bare[0], bare[1])].split()
    elif bare[0] in _UNIT_WORDS and len(words) >= 2:
        words[0] = _UNIT_WORDS[bare[0]]
        rest = " ".join(bare[1:])
        if words[0] in ("SỞ", "PHÒNG") and rest in _DEPARTMENT_WORDS:
            words[1:] = _DEPARTMENT_WORDS[rest].split()
    return " ".join(words)


def normalize_issuer(lines: list[str]) -> str:
    text = modern_tone_marks(" ".join(_unit_line(nfc(line)) for line in lines))
    text = re.sub(r"\bUBND\b", "ỦY BAN NHÂN DÂN", text)
    return re.sub(r"\s+", " ", text).strip()


def extract_issuer(pages: list[PageText]) -> FieldValue:
    """The managing and issuing bodies printed top left, normalized (UBND → ỦY BAN NHÂN DÂN)."""
    if not pages:
        return FieldValue(None, 0.0)
    left, _ = _header(pages[0])
    lines = []
    for seg in left:
        if NUMBER_LINE_RE.match(seg.text) or is_subject_line(seg.text):
            break
        if len(seg.text.strip(" -_—")) >= 2:
            lines.append(seg.text)
    if not lines:
        return FieldValue(None, 0.0)
    issuer, corrected = correct_place_names(normalize_issuer(lines))
    evidence = " / ".join(lines) + (f" ({'; '.join(corrected)})" if corrected else "")
    unknown = unknown_places(issuer)
    if unknown:
        read = ", ".join(f"{unit} {place}" for unit, place in unknown)
        return FieldValue(issuer, 0.6, evidence, f"{read}…: no such place in the list of administrative units "
                          "(read split or garbled?)")
    return FieldValue(issuer, 0.85, evidence)


# Labels that introduce a holder on results of any type, tried after the type's own labels.
GENERIC_HOLDER_LABELS = ("Họ và tên", "Họ, chữ đệm, tên", "Họ, chữ đệm và tên", "Họ tên", "Ông/Bà", "Ông (Bà)",
                         "Bà/Ông", "Tên hộ kinh doanh", "Tên doanh nghiệp", "Tên công ty", "Cấp cho", "Ông", "Bà")


def extract_holder(pages: list[PageText], doc_type: DocumentType | None) -> FieldValue:
    """The person or organization the result is for, after its label; a person's name checked word by word.

    A label is never part of the value: "(Bà) Trần Xuân Ước" and "Ông/Bà: TRẦN XUÂN ƯỚC" both give the name.
    """
    if doc_type is None or not doc_type.holder_labels:
        return FieldValue(None, 0.0)
    segments = [s for p in pages for s in p.segments]
    labels = list(dict.fromkeys((*doc_type.holder_labels, *GENERIC_HOLDER_LABELS)))
    for label in labels:
        found = _labelled_value(segments, label, continues=True)
        if not found:
            continue
        # Specks before the name ("¡ NGUYỄN KHẮC VINH") are no part of it.
        value = re.sub(r"^(?:[^\w(]|_)+", "", _HONORIFIC_RE.sub("", found[0])).strip(" .;,:")
        value = re.sub(r"(?:\s+[^\w\s]+)+$", "", value).strip(" .;,:")  # a table's rule after it: "Tùng. ¬."
        if not value or not any(c.isalpha() for c in value):
            continue
        confidence = min(0.9, found[2])
        note = None
        if lost_diacritics(value):
            confidence = min(confidence, 0.4)
        elif not is_person_name(label, value) and \
                (not_syllables := [w for w in value.split() if not vietnamese_syllable(w)]):
            # Vietnamese writes one syllable a word: "HOASEN" is two read without their space (or a foreign name);
            # a person's name is checked against the name lexicon below instead.
            confidence = min(confidence, 0.6)
            note = f"{', '.join(not_syllables)} is not one Vietnamese syllable: check the spaces and letters"
        elif is_person_name(label, value) and len(value.split()) == 1:
            # A Vietnamese name has a surname and a given name: the rest is elsewhere, maybe on a line not read.
            confidence, note = min(confidence, 0.5), f"{value} alone is not a whole name"
        elif is_person_name(label, value) and not all(p.source == "text-layer" for p in pages):
            # A text layer is the issuer's own typing, with no reader's slip on a mark; a rarer name than the
            # lists know ("ƯỚC") is still a name.  A name printed in mixed case ("Kiểu Công Ước") is checked in
            # capitals, and a proposal is written as the name was ("Kiều Công Ước").
            checked, problems = check_person_name(value.upper())
            value = checked if value.isupper() else " ".join(
                proposed.capitalize() if word.istitle() else word
                for word, proposed in zip(value.split(), checked.split(), strict=True))
            if problems:
                # A proposal, never a silent change: the clerk confirms it at review.
                confidence = min(confidence, 0.5)
                note = "name checked against known Vietnamese names: " + "; ".join(problems)
        return FieldValue(value, confidence, f"{label}: …", note)
    return FieldValue(None, 0.0)


_NAMES_FILE = Path(__file__).parent / "data" / "names.toml"
_PERSON_LABELS = ("HO VA TEN", "HO TEN", "HO, CHU DEM", "ONG", "BA", "NGUOI")
_ORGANIZATION_WORDS = ("CONG TY", "HO KINH DOANH", "DOANH NGHIEP", "HOP TAC XA", "CHI NHANH", "TAP DOAN",
                       "NGAN HANG", "TRUONG", "BENH VIEN", "CUA HANG", "CO SO", "TRUNG TAM", "VAN PHONG", "UY BAN")


@functools.cache
def name_lexicon() -> dict[str, frozenset[str]]:
    """Known name syllables by position (``surnames``, ``middle``, ``given``) from ``data/names.toml``."""
    raw = tomllib.loads(_NAMES_FILE.read_text("utf-8"))
    return {part: frozenset(modern_tone_marks(nfc(word)) for word in raw[part])
            for part in ("surnames", "middle", "given")}


def is_person_name(label: str, value: str) -> bool:
    """Whether the holder is a person: a name label ("Họ và tên"), or an unlabelled name that starts with a
    known surname and is not an organization ("CÔNG TY …", "HỘ KINH DOANH …")."""
    folded = fold(value)
    if any(folded.startswith(word) for word in _ORGANIZATION_WORDS):
        return False
    if fold(label).startswith(_PERSON_LABELS):
        return True
    first = folded.split()[0] if folded.split() else ""
    return first in {fold(s) for s in name_lexicon()["surnames"]}


def check_person_name(name: str) -> tuple[str, list[str]]:
    """A person's name checked against the lexicon: (the name with proposed corrections, what was wrong).

    Each word is looked up where it stands (surname first, given name last, middle names between).  An
    unknown word with exactly one known syllable of the same letters is replaced by it (LỄ → LÊ, the
    usual OCR slip on a capital's tone mark); otherwise it is kept and reported.
    """
    words = modern_tone_marks(nfc(name)).split()
    if not 2 <= len(words) <= 6 or not all(w.isalpha() and w.isupper() for w in words):
        return name, []
    lexicon = name_lexicon()
    proposed, problems = [], []
    for i, word in enumerate(words):
        known = _known_at(lexicon, i, len(words))
        if word in known:
            proposed.append(word)
            continue
        same_letters = _same_letters(word, known)
        if len(same_letters) == 1:
            proposed.append(same_letters[0])
            problems.append(f"{word} read, {same_letters[0]} proposed")
        else:
            proposed.append(word)
            problems.append(f"{word} is not a known name" + (f" (maybe {' or '.join(same_letters)})"
                                                             if same_letters else ""))
    return " ".join(proposed), problems


def _known_at(lexicon: dict[str, frozenset[str]], i: int, count: int) -> frozenset[str]:
    """The names known at word ``i`` of a name of ``count`` words: surname first, given name last."""
    if i == 0:
        return lexicon["surnames"]
    if i == count - 1:
        return lexicon["given"]
    return lexicon["middle"] | lexicon["given"]


def _same_letters(word: str, known: frozenset[str]) -> list[str]:
    return sorted(k for k in known if strip_accents(k) == strip_accents(word))


_SYLLABLE_RE = re.compile(r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
                          r"[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?", re.IGNORECASE)


def vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` (marks aside) is one Vietnamese syllable, or an abbreviation or number of names
    (TNHH, 2): consonants, one vowel group, at most a final consonant."""
    letters = strip_accents(word).strip(".,;:()\"'")
    if not letters or not letters.isalpha() or fold(word) in _ORGANIZATION_FOLDED or \
            (letters.isupper() and len(letters) <= 5 and not re.search(r"[AEIOUY]", letters)):
        return True
    return _SYLLABLE_RE.fullmatch(letters) is not None


def lost_diacritics(name: str) -> bool:
    """A name of several words with not one Vietnamese diacritic: almost surely misread (PHAM XUAN HAI)."""
    words = re.findall(r"[^\W\d_]+", name)
    return len(words) >= 2 and strip_accents(name) == name


def extract_personal_id(pages: list[PageText]) -> FieldValue:
    """The 12-digit personal identification number printed after "Số định danh cá nhân"."""
    for seg in (s for p in pages for s in p.segments):
        if "DINH DANH" in fold(seg.text) or "CAN CUOC" in fold(seg.text):
            match = _PERSONAL_ID_RE.search(seg.text.replace(" ", ""))
            if match:
                return FieldValue(match.group(1), 0.9, "Số định danh cá nhân")
    return FieldValue(None, 0.0)


def level_of_issuer(issuer: str | None) -> str | None:
    """Administrative level from the issuing body's name: commune, district, province or ministry."""
    if not issuer:
        return None
    text = " " + fold(issuer) + " "
    if re.search(r" (XA|PHUONG|THI TRAN) ", text.replace(" THI XA ", " ")):
        return "commune"
    if re.search(r" (HUYEN|QUAN|THI XA) ", text):
        return "district"
    city = re.search(r" THANH PHO ([A-Z ]+?)(?: |$)", text)
    if city and not any(text.find("THANH PHO " + name) >= 0 for name in _CENTRAL_CITIES):
        return "district"
    if re.search(r" (TINH|SO|THANH PHO) ", text):
        return "province"
    if re.search(r" (BO|CUC|TONG CUC) ", text):
        return "ministry"
    return None


def number_line(pages: list[PageText]) -> str | None:
    """The first page's number line as read, filled or blank ("Số: /QĐ-UBND")."""
    left, _ = _header(pages[0]) if pages else ([], [])
    return next((seg.text for seg in left if NUMBER_LINE_RE.match(seg.text)), None)


def _number_read(text: str) -> str | None:
    match = _NUMBER_RE.match(_tight("Số: " + text.lstrip(" .,:;-_~'\"")))
    number = _document_number(match.group(1).rstrip(".-/")) if match else None
    return number[0] if number else None


def _code_read(text: str) -> str | None:
    """A number after its own label ("Mã số doanh nghiệp: 0109876543"), as the page extraction takes it."""
    value = re.match(r"[0-9A-Za-z/.\-]+", text.translate(_SLASHES).replace(" ", ""))
    return value.group(0) if value and any(c.isdigit() for c in value.group(0)) else None


def read_date(text: str) -> str | None:
    """An issue date (ISO) as a reading of the date line gives it, if it is a plausible one."""
    found = parse_vietnamese_date(text)
    return found.isoformat() if found and 1945 <= found.year <= 2100 else None


def _fits_the_line(name: str, value: str, pages: list[PageText]) -> bool:
    """Whether a number read only in the crops fits its printed line: digits written into the blank, then
    the symbol's printed rest ("Số: ____ /BC-UBND" takes "3129/BC-UBND", never "3/29/BC-UBND")."""
    if name != "number":
        return True
    line = number_line(pages) or ""
    tails = [token for token in line.translate(_SLASHES).split()[1:] if token.startswith("/")]
    if not value.partition("/")[0].isdigit():
        return False
    return not tails or (value.endswith(tails[-1]) and value[:-len(tails[-1])].isdigit())


def check_symbol(value: FieldValue, doc_type: DocumentType | None, issuer: str | None = None,
                 issued_year: int | None = None) -> FieldValue:
    """Decree 30's form of a document symbol, checked on the value finally taken, whichever reading it came
    from: an administrative document's is number/KIND-ISSUER, with the kind its title names; the letters of any
    symbol are capitals (but for a kind written so, TTr, QyĐ), and a part that is the issuer's initials with a
    letter or digit more (UBNDK: a speck of a stamp or signature read as a letter) is a misreading; a number that
    runs on into its year of issue lost a slash."""
    if not value.value or doc_type is None or value.confidence < 0.5:
        return value
    symbol = _restore_hyphen(value.value, doc_type)
    if symbol != value.value:
        value = replace(value, value=symbol)
    problem = symbol_problem(symbol, doc_type, issuer) or _lost_slash(symbol, issued_year)
    if problem:
        confidence = 0.4 if "incomplete" in problem else 0.5
        note = problem + (f"; {value.note}" if value.note else "")
        return replace(value, confidence=min(value.confidence, confidence), note=note)
    return value


def _lost_slash(symbol: str, issued_year: int | None) -> str | None:
    """A number whose digits run on into the year of its issue ("502021" issued in 2021) most likely lost the
    slash between them ("50/2021"): a numbering of five digits and more that ends in the very year is rare."""
    head = symbol.partition("/")[0]
    if issued_year is None or len(head) < 5 or not head.isdigit() or not head.endswith(str(issued_year)):
        return None
    return f"the number {head!r} may be {head[:-4]}/{issued_year} with its slash lost"


def symbol_problem(symbol: str, doc_type: DocumentType | None, issuer: str | None) -> str | None:
    """Why ``symbol`` cannot be a document symbol of this type and issuer under Decree 30, or None."""
    _, slash, rest = symbol.partition("/")
    admin = doc_type is not None and doc_type.kind == "admin"
    if admin and not slash:
        return f"the symbol {symbol!r} is incomplete"
    if not rest:
        return None
    kind = doc_type.abbreviation if doc_type is not None else None
    letter_parts = [part for part in re.split(r"[/\-]", rest) if part and not part.isdigit()]
    if any(part != kind and any(c.islower() for c in part) for part in letter_parts):
        return f"the symbol {symbol!r} has lower-case letters"
    if admin and "-" not in rest:
        return f"the symbol {symbol!r} has no hyphen"
    if admin and kind:
        read_kind = re.sub(r"^(\d{4}/)?", "", rest).split("-")[0]
        if read_kind != kind:
            return f"the symbol {symbol!r} names the kind {read_kind}, the title {kind}"
    initials = {fold(i) for i in _initials(issuer)} if issuer else set()
    for part in letter_parts:
        folded = fold(part)
        if folded in initials:
            continue
        near = [i for i in initials if len(i) >= 3 and folded.startswith(i) and 1 <= len(folded) - len(i) <= 2]
        if near or (any(c.isdigit() for c in part) and any(c.isalpha() for c in part)):
            return f"the symbol {symbol!r} has a part {part} that is not the issuer's initials ({max(near, key=len)})" \
                if near else f"the symbol {symbol!r} mixes digits and letters in {part}"
    return None


def symbol_key(text: str) -> str:
    """A number's digits and letters only, without marks and case: what two readings of it must share (a
    second reader drops slashes, hyphens, dots and case)."""
    return re.sub(r"[^0-9A-Z]", "", fold(text))


def _key(name: str, value: str) -> str:
    """What two readings must share to agree: a number's ``symbol_key``, a date's ISO form."""
    return symbol_key(value) if name != "issued_on" else value


def _verdicts(rereads: list[Reread], read: Callable[[str], str | None]) -> dict[str, str]:
    """What each engine read: in the blank alone (its digits in the line's printed rest), else on the crop of
    the line with the ink kept, else on the cleaned crop (the image the page reading saw, where a pen's blue ink
    was lifted); no verdict when none could be read."""
    by_engine: dict[str, dict[str, str | None]] = {}
    for reread in rereads:
        engine, _, image = reread.source.partition(", ")
        by_engine.setdefault(engine, {})[image] = read(reread.text)
    verdicts = {}
    for engine, readings in by_engine.items():
        value = readings.get("blank") or readings.get("printed") or readings.get("ink kept") or readings.get("cleaned")
        if value:
            verdicts[engine] = value
    return verdicts


def confirm_with_rereads(value: FieldValue, pages: list[PageText], name: str,
                         fits: Callable[[str], bool] | None = None) -> FieldValue:
    """Combine a field read on the page with the second readings of its line (``digitize.reread``).

    Each engine that re-read the line gives a verdict (its reading of the crop with the ink kept).  A line
    read surely on the page is questioned only when an engine's verdict is something else.  An unsure or
    filled-in line needs an engine that agrees and none that disagrees, or two engines that agree with each
    other; a value seen by one engine only is a proposal with what each reading said; a blank nothing could
    read says where it is, so the clerk types only that.  ``fits``: whether a number has the form its type's
    symbols take; when the readings share their digits and differ in letters, the one reading that fits is taken.
    """
    page_index, rereads = next(((p.index, p.rereads) for p in pages[:1] if p.rereads), (0, ()))
    rereads = [r for r in rereads if r.field == name]
    if not rereads:
        return value
    parse = {"number": _number_read, "number_label": _code_read, "issued_on": read_date}[name]
    # Tesseract's confidence on a lone line says little (0 for a clean "1234/QĐ-UBND"): agreement decides.
    verdicts = _verdicts(rereads, lambda text: parse(text.translate(_ETH)))
    keys = {engine: _key(name, v) for engine, v in verdicts.items()}
    every_reading = [v for v in (parse(r.text.translate(_ETH)) for r in rereads) if v]
    x, y, w, h = rereads[0].box
    where = f"page {page_index + 1}, box x={x} y={y} w={w} h={h}"
    said = "; ".join(f"{r.source}: {r.text!r}" for r in rereads)
    unsure = any(r.unsure for r in rereads)
    engines_agree = len(keys) >= 2 and len(set(keys.values())) == 1
    # Tesseract's reading keeps the marks; the others' share its printed rest.
    agreed = next((verdicts[e] for e in ("tesseract", "trueocr", "digits") if e in verdicts), None)
    if unsure and engines_agree and agreed and (not value.value or keys[next(iter(keys))] != _key(name, value.value)) \
            and _fits_the_line(name, agreed, pages):
        # Two engines read the same on the crop with the ink kept where the page (the ink-lifted image) read
        # nothing or something else: the pen's ink was what the page lost.
        return FieldValue(agreed, 0.8, f"read again by {len(keys)} engines at {where}",
                          f"the page read {value.value!r}" if value.value else None)
    majority = _two_of_three(verdicts, keys, value.value and _key(name, value.value)) if unsure else None
    if majority and _fits_the_line(name, majority, pages):
        return FieldValue(majority, 0.75, f"read again by three engines at {where}, two alike ({said})", None)
    if value.value:
        page_key = _key(name, value.value)
        agree = [e for e, k in keys.items() if k == page_key]
        differ = [e for e, k in keys.items() if k != page_key]
        whole = {verdicts[e] for e in differ if value.value in verdicts[e]}
        if unsure and len(whole) == 1 and len(set(keys.values())) == 1:
            # The page cut what every engine read whole on the crops ("144/2016/XN" of "144/2016/XNHN").
            return FieldValue(whole.pop(), 0.75, value.evidence, None)
        fitting = _the_one_that_fits([value.value, *verdicts.values()], fits, every_reading) if fits else None
        if fitting:
            return FieldValue(fitting, 0.75, f"{value.evidence} (of the readings {said}, the only one in the form "
                              "its type's symbols take (Decree 30's for administrative documents), all with the "
                              "same digits)")
        if differ == ["digits"] and "trueocr" in agree and \
                {r.source for r in rereads if r.source.startswith("digits")} == {"digits, printed"}:
            # Printed digits (a date line's month or year) the page and TrueOCR read alike: the digit reader,
            # made for a pen's digits, raised the doubt and two readers of print settle it.
            return value
        if differ:
            return replace(value, confidence=min(value.confidence, 0.5),
                           note=f"a second reading differs ({said}) at {where}")
        if not unsure:
            return value
        if agree:
            # Confirmed by another reading (a guessed digit stays unconfirmed).
            confident = value.confidence if value.note else max(value.confidence, 0.9)
            return replace(value, confidence=min(0.95, confident))
        # Filled in by hand or stamp, or read unsurely: the page alone is not enough.
        return replace(value, confidence=min(value.confidence, 0.6),
                       note=value.note or f"not confirmed by a second reading ({said}) at {where}")
    if len(set(keys.values())) == 1:
        # Read only in the crops, by one engine: a proposal a clerk confirms with one key, not an archived value.
        return FieldValue(next(iter(verdicts.values())), 0.65, f"re-read at {where}",
                          f"read only in the crops ({said}) at {where}")
    fitting = _the_one_that_fits(list(verdicts.values()), fits, every_reading) if fits and len(keys) >= 2 else None
    if fitting:
        # The page read nothing; two engines read the same digits, and one reading alone is in form.
        return FieldValue(fitting, 0.75, f"read again at {where}: of the readings {said}, the only one in the form "
                          "its type's symbols take, all with the same digits")
    if len(keys) >= 2:
        return FieldValue(next(iter(verdicts.values())), 0.45, f"re-read at {where}",
                          f"the readers differ ({said}) at {where}")
    readable = [v for v in (parse(r.text.translate(_ETH)) for r in rereads) if v]
    if readable:
        return FieldValue(readable[0], 0.45, f"re-read at {where}", f"read only in part ({said}) at {where}")
    return replace(value, note=f"blank or unreadable at {where}" + (f" ({said})" if said else ""))


def _two_of_three(verdicts: dict[str, str], keys: dict[str, str], page_key: str | None) -> str | None:
    """The reading the digit reader shares with one of the two line readers when the other differs and the page
    does not side with it (a pen's 8 read as 6 by Tesseract).  The digit reader, the one made for a pen's digits,
    is never outvoted: where it differs from both line readers, a clerk looks."""
    if len(keys) != 3 or len(set(keys.values())) != 2 or "digits" not in keys:
        return None
    shared = keys["digits"]
    odd = next(k for k in keys.values() if k != shared)
    if page_key == odd or sum(k == shared for k in keys.values()) != 2:
        return None
    return next(verdicts[e] for e in ("tesseract", "trueocr") if keys.get(e) == shared)


def _the_one_that_fits(readings: list[str], fits: Callable[[str], bool], more: list[str] = ()) -> str | None:
    """Of the readings (the page's and each engine's verdict), the one symbol that ``fits``, when all share the
    same digits and the others do not fit: "513/NGQ-UBND" (page, Tesseract) and "513/NQ-UBND" (TrueOCR) of a
    nghị quyết.  ``more``: the engines' readings of their other images, candidates too where they share those
    digits ("375/TP-HT" on the cleaned image, "375/TP-#T" with the ink kept)."""
    candidates = {symbol_key(r): r for r in readings}
    # The digits of the number (and year) come before any letter; a digit among letters ("TP-H7") is a misread one.
    digits = {re.match(r"\d*", key).group(0) for key in candidates}
    if len(digits) != 1:
        return None
    candidates.update({symbol_key(r): r for r in more if re.match(r"\d*", symbol_key(r)).group(0) in digits
                       and symbol_key(r) not in candidates})
    fitting = [(key, r) for key, r in candidates.items() if fits(r)]
    if len(fitting) != 1 or len(candidates) == 1:
        return None
    key, reading = fitting[0]
    # Another reading that goes on past it ("616/TP" of "616/TP-#T") says this one may be cut short.
    return None if any(other != key and other.startswith(key) for other in candidates) else reading


# Units whose abbreviations stand in result symbols beside the issuer's: Tư pháp – Hộ tịch ("…/TP-HT").
_KNOWN_UNIT_PARTS = frozenset({"TP", "HT"})


def symbol_fits(doc_type: DocumentType | None, issuer: str | None) -> Callable[[str], bool] | None:
    """Whether a symbol is in the form this type's symbols take: for an administrative type with a kind
    abbreviation Decree 30's number/KIND-ISSUER (the issuer part the issuer's initials); for a result, digits
    and letter parts that are all known (the type's code or abbreviation, the issuer's initials, TP, HT) and
    no misreading (``symbol_problem``).  None where no form is known."""
    if doc_type is None:
        return None
    initials = {fold(i) for i in _initials(issuer)} if issuer else set()
    if doc_type.kind == "admin":
        if not doc_type.abbreviation or not issuer:
            return None
        form = re.compile(rf"\d+(/\d{{4}})?/{re.escape(doc_type.abbreviation)}-([A-ZĐ]+)")

        def fits_admin(symbol: str) -> bool:
            match = form.fullmatch(symbol)
            return bool(match) and fold(match.group(2)) in initials and not symbol_problem(symbol, doc_type, issuer)
        return fits_admin
    known = initials | _KNOWN_UNIT_PARTS | {fold(doc_type.code)} | \
        ({fold(doc_type.abbreviation)} if doc_type.abbreviation else set())

    def fits_result(symbol: str) -> bool:
        if not re.fullmatch(r"\d+(/\d{4})?(/[A-ZĐ]+(-[A-ZĐ]+)*)?", symbol):
            return False
        parts = [part for part in re.split(r"[/\-]", symbol) if part and not part.isdigit()]
        return all(fold(part) in known for part in parts) and not symbol_problem(symbol, doc_type, issuer)
    return fits_result


def _holder_read(text: str) -> str | None:
    text = _HONORIFIC_RE.sub("", nfc(text)).strip(" .;,:|")
    text = _NEXT_LABEL_RE.split(text, maxsplit=1)[0].strip(" .;,")
    return modern_tone_marks(text) or None


def _other_marks(reading: str, page: str, shared: bool = False) -> bool:
    """Same letters, other marks, word by word ("HIỂU" / "HIẾU"); a word whose marks a reader dropped
    altogether ("TAP" for "TẠP", "THI" for "THỊ") is the reader's weakness, not another reading, unless two
    readers read it so (``shared``), kept marks elsewhere on the line, and the bare word is a name of its own
    ("Triệu Trọng Vinh" / "… Vĩnh")."""
    words = reading.split()
    if reading == page or strip_accents(reading) != strip_accents(page) or len(words) != len(page.split()):
        return False
    pairs = [(i, a) for i, (a, b) in enumerate(zip(words, page.split(), strict=True)) if a != b]
    marks_elsewhere = any(strip_accents(a) != a for i, a in enumerate(words) if i not in {k for k, _ in pairs})
    lexicon = name_lexicon()
    return all(strip_accents(a) != a or (shared and marks_elsewhere and a.upper() in _known_at(lexicon, i, len(words)))
               for i, a in pairs)


# Words of organization names ("CÔNG TY CỔ PHẦN …"): one spelling each, like name syllables.
_ORGANIZATION_SYLLABLES = frozenset({"CÔNG", "TY", "CỔ", "PHẦN", "TRÁCH", "NHIỆM", "HỮU", "HẠN", "TNHH", "HỘ",
                                     "KINH", "DOANH", "HỢP", "TÁC", "XÃ", "CHI", "NHÁNH", "NGHIỆP", "TƯ", "NHÂN",
                                     "TẬP", "ĐOÀN", "CỬA", "HÀNG", "CƠ", "SỞ"})


_ORGANIZATION_FOLDED = frozenset(fold(word) for word in _ORGANIZATION_SYLLABLES)


def _known_over(page: str, other: str) -> bool:
    """Whether, at every word where two readings of a holder differ in marks, the page's word is a known name
    syllable for its place (or an organization's word) and the other reading's is not: "LÂM THỊ OANH" against
    "LẢM THỊ OANH", "CÔNG TY CỔ PHẦN …" against "… CỔ PHẮN …" (a reader's slip, not another name)."""
    lexicon = name_lexicon()
    words = page.split()
    person = not any(fold(page).startswith(word) for word in _ORGANIZATION_WORDS)

    def known(word: str, i: int) -> bool:
        word = word.upper()  # the lists are in capitals; a name may be printed "Đinh Xuân Hạnh"
        if not person:
            return word in _ORGANIZATION_SYLLABLES or any(word in names for names in lexicon.values())
        place = "surnames" if i == 0 else "given" if i == len(words) - 1 else None
        return word in (lexicon[place] if place else lexicon["middle"] | lexicon["given"])
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(words, other.split(), strict=False)) if a != b]
    return bool(pairs) and all(known(a, i) and not known(b, i) for i, a, b in pairs)


def _marks_in_doubt(name: str) -> bool:
    """Whether a person's name has a word no list knows whose letters known names share with other marks
    (HIỂU, where HIẾU and HIỆU are names): two readers can make the same slip on a mark (seen on fresh seeds
    262_626, after 424_242), so their agreement does not settle it."""
    words = modern_tone_marks(nfc(name)).upper().split()
    if not 2 <= len(words) <= 6 or not all(w.isalpha() for w in words):
        return False
    lexicon = name_lexicon()
    return any(word not in (known := _known_at(lexicon, i, len(words))) and len(_same_letters(word, known)) > 1
               for i, word in enumerate(words))


def confirm_holder(value: FieldValue, pages: list[PageText]) -> FieldValue:
    """A holder's name checked by the second readings of its line: a name the lexicon corrected (LỄ → LÊ)
    or read unsurely that another engine reads alike needs no clerk, unless a word of it is unknown with known
    names of the same letters (HIỂU: HIẾU or HIỆU); a name an engine reads with the same
    letters but other marks (HIẾU / HIỂU) goes to the clerk with both.  A garbled reading proves nothing."""
    rereads = [r for p in pages[:1] for r in p.rereads if r.field == "holder"]
    if not value.value or not rereads:
        return value
    verdicts = _verdicts(rereads, _holder_read)
    readings = list(verdicts.values())
    other_marks = [v for v in readings if _other_marks(v, value.value, shared=readings.count(v) > 1)
                   and not _known_over(value.value, v)]
    if other_marks:
        return replace(value, confidence=min(value.confidence, 0.5),
                       note=f"the page reads {value.value}, a second reading {other_marks[0]}")
    if value.value in verdicts.values() and not lost_diacritics(value.value) and not _marks_in_doubt(value.value):
        return replace(value, confidence=max(value.confidence, 0.85), note=None,
                       evidence=f"{value.evidence} (confirmed by a second reading)")
    return value


# -- the rest of Circular 01/2023's minimum data: the summary (trích yếu) and the validity

_ABOUT_RE = re.compile(r"^\W{0,2}VE VIEC\b")  # "Về việc …" under a decision's title
MAX_SUMMARY_CHARS = 300


def extract_summary(pages: list[PageText]) -> FieldValue:
    """The summary of an administrative document: the "V/v …" line of a công văn, or the "Về việc …" line
    under the title (with the line after it when the sentence goes on there).  None for papers without one."""
    lines = [s.text for p in pages[:1] for s in p.segments]
    for index, line in enumerate(lines[:40]):
        if not (is_subject_line(line) or _ABOUT_RE.match(fold(line))):
            continue
        head = nfc(line).strip()
        text = head
        if index + 1 < len(lines):
            following = nfc(lines[index + 1]).strip()
            # A summary goes on in lower case; a new part of the page starts with a capital or a label.
            if following and following[0].islower() and len(text) + len(following) < MAX_SUMMARY_CHARS:
                text = f"{text} {following}"
        return FieldValue(" ".join(text.split())[:MAX_SUMMARY_CHARS], 0.8, "summary line")
    return FieldValue(None, 0.0)


_VALID_UNTIL_RE = re.compile(r"CO (?:GIA TRI|HIEU LUC)(?: SU DUNG)? (?:DEN|TOI)(?: HET)?(?: NGAY)?\s*(.{6,40})")
_VALID_FOR_RE = re.compile(r"(?:CO (?:GIA TRI|HIEU LUC)[^.]{0,60}?)?TRONG THOI HAN (\d{1,3}) (THANG|NAM|NGAY)"
                           r" KE TU NGAY (?:CAP|KY|BAN HANH)")
_SCOPE_RE = re.compile(r"(CO GIA TRI|CO HIEU LUC)[^.]{0,40}?\b(TREN |TRONG )?PHAM VI ([^.;,]{3,60})")


def _months_later(day, months: int):
    from datetime import date

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    return None


def extract_validity(pages: list[PageText], issued_on: str | None) -> tuple[FieldValue, FieldValue]:
    """Until when the paper is valid (YYYY-MM-DD) and where, when it says so: "có giá trị đến ngày …",
    "có hiệu lực … trong thời hạn 12 tháng kể từ ngày cấp" (counted from the issue date), "có giá trị
    trong phạm vi toàn quốc".  "Có hiệu lực kể từ ngày ký" says when it starts, not until when."""
    from datetime import date, timedelta

    text = "\n".join(s.text for p in pages for s in p.segments)
    folded = " ".join(fold(text).split())
    original = " ".join(nfc(text).split())
    until = FieldValue(None, 0.0)
    match = _VALID_UNTIL_RE.search(folded)
    if match:
        day = parse_vietnamese_date("ngày " + match.group(1)) or parse_vietnamese_date(match.group(1))
        if day:
            until = FieldValue(day.isoformat(), 0.8, "validity sentence")
    if until.value is None and issued_on:
        match = _VALID_FOR_RE.search(folded)
        if match:
            count, unit = int(match.group(1)), match.group(2)
            start = date.fromisoformat(issued_on)
            end = (_months_later(start, count) if unit == "THANG" else _months_later(start, 12 * count)
                   if unit == "NAM" else start + timedelta(days=count))
            if end:
                unit_name = {"THANG": "months", "NAM": "years", "NGAY": "days"}[unit]
                until = FieldValue(end.isoformat(), 0.7, f"{count} {unit_name} from the issue date")
    scope = FieldValue(None, 0.0)
    match = _SCOPE_RE.search(folded)
    if match and len(folded) == len(strip_accents(original).upper()):
        start, end = match.span(3)
        scope = FieldValue(original[start:end].strip(), 0.8, "validity sentence")
    elif match:
        scope = FieldValue(match.group(3).strip().lower(), 0.6, "validity sentence (folded)")
    return until, scope
