"""Render generated documents (``digitize.training``) as Decree 30 pages, for tests and benchmarks."""

from __future__ import annotations

import random

from digitize.training import SynthDocument, synth_document
from samples.make_samples import DocSpec


def to_spec(doc: SynthDocument, fmt: str = "jpg", skew: float = 0.0, fill: str = "print") -> DocSpec:
    """A renderable ``DocSpec`` for a generated document."""
    return DocSpec(
        file_name=f"{doc.doc_type.lower()}-{doc.seed}.{'pdf' if fmt.startswith('pdf') else fmt}",
        doc_type=doc.doc_type, title=doc.title, managing_body=doc.managing_body, issuing_body=doc.issuing_body,
        number=doc.number, place=doc.place, issued_on=doc.issued_on, level=doc.level, holder=doc.holder,
        subtitle=doc.subtitle, subject=doc.subject, recipient=doc.recipient, body=doc.body,
        signer_block=doc.signer_block, signer_name=doc.signer_name, fmt=fmt, skew=skew, seed=doc.seed, fill=fill,
    )


def synth_spec(doc_type, rng: random.Random, seed: int = 0, fmt: str = "jpg") -> DocSpec:
    """A renderable random document of catalogue type ``doc_type``."""
    return to_spec(synth_document(doc_type, rng, seed), fmt, skew=rng.uniform(-2.5, 2.5))
