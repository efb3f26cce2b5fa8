"""Statistical text model of document types: character n-grams of the OCR text, logistic regression.

Trained from ``digitize.training`` (generated documents, half of them with simulated OCR noise) plus the
clerks' corrections; deterministic, so the same catalogue and corrections give the same model.  The
model is cached under the data directory, keyed by a hash of everything it is trained from.

scikit-learn trains it; prediction runs on the exported weights with numpy alone, because importing
scikit-learn and SciPy costs seconds of CPU in every process that classifies (bench/speed.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codes import Catalogue
from codes.catalogue import DEFAULT_CATALOGUE
from digitize.text import fold
from digitize.training import document_text, ocr_noise, synth_document

MODEL_VERSION = 2
NGRAM_RANGE = (2, 4)
PER_TYPE = 40
SEED = 20211


def _normalize(text: str) -> str:
    return fold(text)[:3000]  # the header, title and first paragraphs carry the type


@dataclass(frozen=True)
class TypeGuess:
    type_code: str
    probability: float


class TextModel:
    """TF-IDF of character n-grams within words, then multinomial logistic regression (exported weights)."""

    def __init__(self, terms: np.ndarray, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 classes: np.ndarray):
        self.columns = {str(term): i for i, term in enumerate(terms)}
        self.terms, self.idf, self.coef, self.intercept, self.classes = terms, idf, coef, intercept, classes

    @classmethod
    def from_sklearn(cls, model) -> TextModel:
        vectorizer, classifier = model.named_steps["ngrams"], model.named_steps["classifier"]
        terms = np.array(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get))
        return cls(terms, vectorizer.idf_, classifier.coef_, classifier.intercept_, classifier.classes_)

    @classmethod
    def load(cls, path: Path) -> TextModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["terms"], data["idf"], data["coef"], data["intercept"], data["classes"])

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            np.savez_compressed(fh, terms=self.terms, idf=self.idf, coef=self.coef, intercept=self.intercept,
                                classes=self.classes)

    def probabilities(self, text: str) -> np.ndarray:
        """Probability of every class in ``self.classes`` for ``text``."""
        counts: dict[int, int] = {}
        for gram in char_wb_ngrams(_normalize(text).lower()):
            column = self.columns.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        scores = self.intercept.copy()
        if counts:
            columns = np.fromiter(counts, dtype=np.int64)
            weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[columns]
            weights /= np.linalg.norm(weights)
            scores += self.coef[:, columns] @ weights
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def predict(self, text: str, top: int = 3) -> list[TypeGuess]:
        """Most likely types with their probabilities, best first."""
        probabilities = self.probabilities(text)
        ranked = sorted(zip(self.classes, probabilities, strict=True), key=lambda p: p[1], reverse=True)
        return [TypeGuess(str(code), float(p)) for code, p in ranked[:top]]


def char_wb_ngrams(text: str, ngram_range: tuple[int, int] = NGRAM_RANGE) -> list[str]:
    """Character n-grams inside word boundaries, padded with a space, exactly as scikit-learn's ``char_wb``."""
    low, high = ngram_range
    grams = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams.extend(padded[i:i + n] for i in range(max(1, len(padded) - n + 1)))
            if len(padded) <= n:  # a short word counts once, whole
                break
    return grams


def training_corpus(catalogue: Catalogue, corrections: list[dict]) -> tuple[list[str], list[str]]:
    rng = random.Random(SEED)
    texts, labels = [], []
    for doc_type in catalogue:
        for i in range(PER_TYPE):
            text = document_text(synth_document(doc_type, rng, i))
            texts.append(_normalize(ocr_noise(text, rng) if i % 2 else text))
            labels.append(doc_type.code)
    for correction in corrections:
        if catalogue.get(correction["doc_type"]):
            texts.append(_normalize(correction["text"]))
            labels.append(correction["doc_type"])
    return texts, labels


def fit_sklearn(catalogue: Catalogue, corrections: list[dict]):
    """The scikit-learn pipeline trained on the generated corpus and the corrections."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline as SkPipeline

    texts, labels = training_corpus(catalogue, corrections)
    model = SkPipeline([
        ("ngrams", TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True, min_df=2)),
        ("classifier", LogisticRegression(C=8.0, max_iter=2000)),
    ])
    model.fit(texts, labels)
    return model


def train(catalogue: Catalogue, corrections: list[dict]) -> TextModel:
    return TextModel.from_sklearn(fit_sklearn(catalogue, corrections))


def read_corrections(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_or_train(catalogue_path: Path | None, cache_dir: Path, corrections_path: Path) -> TextModel:
    """The model for this catalogue and these corrections: from the cache, or trained (a few seconds)."""
    from codes import load_catalogue

    catalogue_file = Path(catalogue_path or DEFAULT_CATALOGUE)
    corrections = read_corrections(corrections_path)
    key = hashlib.sha256(b"%d|" % MODEL_VERSION + catalogue_file.read_bytes()
                         + (corrections_path.read_bytes() if corrections_path.exists() else b"")).hexdigest()[:16]
    path = cache_dir / f"text-model-{key}.npz"
    if path.exists():
        return TextModel.load(path)
    model = train(load_catalogue(catalogue_file), corrections)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".model-")
    os.close(fd)
    model.save(Path(tmp))
    os.replace(tmp, path)
    return model
