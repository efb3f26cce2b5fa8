"""The digit reader of the blanks (``digitize.digits``) and the vote of three readers on a blank.

Its digits here are drawn with OpenCV's Hershey faces, a script hand among them: neither the reader's training
material (MNIST, Liberation) nor sohoa's generators use them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitize.digits import read_digits, split_glyphs
from digitize.fields import confirm_with_rereads
from digitize.model import FieldValue, PageText, Reread, Segment, Word
from digitize.reread import DIGIT_SURE

HANDS = [cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
         cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC, cv2.FONT_HERSHEY_TRIPLEX]


def blank(text: str, face: int, slant: float = 0.0, extra=None) -> np.ndarray:
    """A blank's crop as ``digitize.reread`` cuts it: dark ink on white, binarized."""
    image = np.full((70, 60 + 32 * len(text)), 255, np.uint8)
    cv2.putText(image, text, (14, 52), face, 1.6, 0, 3, cv2.LINE_AA)
    if extra is not None:
        extra(image)
    if slant:
        matrix = np.float32([[1, slant, -slant * 35], [0, 1, 0]])
        image = cv2.warpAffine(image, matrix, (image.shape[1], 70), borderValue=255)
    _, image = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return image


@pytest.mark.parametrize("face", HANDS)
@pytest.mark.parametrize("text", ["2705", "1849", "36", "0913", "8"])
def test_digits_in_a_hand_it_never_saw_are_read(face, text):
    digits, confidence = read_digits(blank(text, face, slant=0.15))
    assert digits == text and confidence > 90


def test_specks_and_dot_leaders_are_not_digits_and_letters_give_no_verdict():
    def specks(image):
        for x in range(8, image.shape[1] - 8, 9):
            cv2.circle(image, (x, 60), 1, 0, -1)  # a dot leader under the blank
        cv2.circle(image, (image.shape[1] - 6, 10), 1, 0, -1)
    crop = blank("417", HANDS[0], extra=specks)
    assert len(split_glyphs(crop)) == 3
    assert read_digits(crop)[0] == "417"
    # Letters where digits should be: no reading sure enough to vote (``digitize.reread.DIGIT_SURE``).
    for letters in ("QD", "UBND", "CT"):
        assert read_digits(blank(letters, cv2.FONT_HERSHEY_SIMPLEX))[1] < DIGIT_SURE
    assert read_digits(np.full((60, 200), 255, np.uint8)) == ("", 0.0)


def test_two_digits_a_pen_joined_are_cut_apart():
    crop = np.full((70, 120), 255, np.uint8)
    for digit, x in (("5", 14), ("8", 36)):  # closer than the face sets them: the strokes touch
        cv2.putText(crop, digit, (x, 52), cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC, 1.6, 0, 3, cv2.LINE_AA)
    _, crop = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, *_ = cv2.connectedComponentsWithStats((crop < 128).astype(np.uint8))
    assert count - 1 == 1
    assert read_digits(crop)[0] == "58"


def _number_page(*readings: tuple[str, str]) -> PageText:
    words = (Word("Số:", 95.0, 300, 200, 84, 40), Word("/BC-UBND", 95.0, 700, 200, 224, 40))
    return PageText(0, 2480, 3508, (Segment(words),), "ocr", rereads=tuple(
        Reread("number", text, 80.0, (390, 190, 300, 80), f"{engine}, blank", True) for engine, text in readings))


def test_two_of_three_readers_outvote_the_third_unless_the_page_sides_with_it():
    pen_8_read_as_6 = _number_page(("trueocr", "1849 /BC-UBND"), ("tesseract", "1649 /BC-UBND"),
                                   ("digits", "1849 /BC-UBND"))
    taken = confirm_with_rereads(FieldValue(None, 0.0), [pen_8_read_as_6], "number")
    assert taken.value == "1849/BC-UBND" and taken.confidence >= 0.7
    assert "two alike" in taken.evidence
    # The page read what the odd one did: two against two, a clerk decides.
    sided = confirm_with_rereads(FieldValue("1649/BC-UBND", 0.6, "Số: 1649 /BC-UBND"), [pen_8_read_as_6], "number")
    assert sided.confidence < 0.7 and sided.note
    # Three readers, three readings: nothing is archived.
    apart = _number_page(("trueocr", "1849 /BC-UBND"), ("tesseract", "1649 /BC-UBND"), ("digits", "1549 /BC-UBND"))
    assert confirm_with_rereads(FieldValue(None, 0.0), [apart], "number").confidence < 0.7
    # The digit reader is never outvoted: two line readers agreeing against it wait for a clerk.
    outvoted = _number_page(("trueocr", "1849 /BC-UBND"), ("tesseract", "1849 /BC-UBND"),
                            ("digits", "1848 /BC-UBND"))
    waits = confirm_with_rereads(FieldValue(None, 0.0), [outvoted], "number")
    assert waits.confidence < 0.7 and "the readers differ" in waits.note and "1848" in waits.note
    all_three = _number_page(("trueocr", "1849 /BC-UBND"), ("tesseract", "1849 /BC-UBND"),
                             ("digits", "1849 /BC-UBND"))
    assert confirm_with_rereads(FieldValue(None, 0.0), [all_three], "number").confidence == 0.8


def test_a_blank_whose_strokes_a_copy_broke_is_told_from_a_whole_one():
    """"131" of which a bilevel copy kept the 1 and a few specks of the rest ("1 ˋ :"): no reader can read it
    whole, so no blank reading of it counts; whole digits, and digits before a dot leader, are not broken."""
    from digitize.digits import broken_ink

    def specks(image: np.ndarray) -> None:
        for x, y in ((60, 24), (84, 30), (86, 40)):
            image[y:y + 3, x:x + 3] = 0

    assert broken_ink(blank("1", cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, extra=specks))
    assert not broken_ink(blank("131", cv2.FONT_HERSHEY_SCRIPT_SIMPLEX))

    def leader(image: np.ndarray) -> None:
        for x in range(60, image.shape[1] - 6, 10):
            image[50:53, x:x + 3] = 0

    assert not broken_ink(blank("1", cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, extra=leader))
