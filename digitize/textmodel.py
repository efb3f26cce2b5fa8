"""Statistical text model of document types: character n-grams of the OCR text, logistic regression.

Trained from ``digitize.training`` (generated documents, half of them with simulated OCR noise) plus the
clerks' corrections; deterministic, so the same catalogue and corrections give the same model.  The
model is cached under the data directory, keyed by a hash of everything it is trained from.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline as SkPipeline

from codes import Catalogue
from codes.catalogue import DEFAULT_CATALOGUE
from digitize.text import fold
from digitize.training import document_text, ocr_noise, synth_document

MODEL_VERSION = 1
PER_TYPE = 40
SEED = 20211


def _normalize(text: str) -> str:
    return fold(text)[:3000]  # the header, title and first paragraphs carry the type


@dataclass(frozen=True)
class TypeGuess:
    type_code: str
    probability: float


class TextModel:
    def __init__(self, model: SkPipeline):
        self.model = model

    def predict(self, text: str, top: int = 3) -> list[TypeGuess]:
        """Most likely types with their probabilities, best first."""
        probabilities = self.model.predict_proba([_normalize(text)])[0]
        ranked = sorted(zip(self.model.classes_, probabilities, strict=True), key=lambda p: p[1], reverse=True)
        return [TypeGuess(str(code), float(p)) for code, p in ranked[:top]]


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


def train(catalogue: Catalogue, corrections: list[dict]) -> TextModel:
    texts, labels = training_corpus(catalogue, corrections)
    model = SkPipeline([
        ("ngrams", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2)),
        ("classifier", LogisticRegression(C=8.0, max_iter=2000)),
    ])
    model.fit(texts, labels)
    return TextModel(model)


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
    path = cache_dir / f"text-model-{key}.joblib"
    if path.exists():
        return TextModel(joblib.load(path))
    model = train(load_catalogue(catalogue_file), corrections)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".model-")
    os.close(fd)
    joblib.dump(model.model, tmp)
    os.replace(tmp, path)
    return model
