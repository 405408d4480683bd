"""The face gallery: enrolled officers as unit-length embeddings (never photos), matched by cosine
similarity. Faces are found and embedded by :mod:`detector.faces`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class EnrollmentError(ValueError):
    """A photo cannot be used to enrol: no face, or more than one."""


@dataclass(frozen=True, slots=True)
class Match:
    """The result of matching one face: the identity (``None`` when unknown) and the best similarity."""

    name: str | None
    similarity: float
    best_candidate: str | None = None


@dataclass(slots=True)
class Gallery:
    """Enrolled identities as unit-length embeddings, matched by cosine similarity.

    Attributes:
        threshold: smallest cosine similarity that counts as a match.
        identities: name to embeddings ``[k, d]`` (one row per enrolment photo).
    """

    threshold: float = 0.42
    identities: dict[str, np.ndarray] = field(default_factory=dict)

    def enroll(self, name: str, embeddings: Iterable[np.ndarray]) -> int:
        """Add embeddings for ``name``; return how many it now has."""
        rows = [np.asarray(e, np.float32).reshape(1, -1) for e in embeddings]
        if not rows:
            raise EnrollmentError(f"no usable photo to enrol {name!r}")
        new = np.concatenate(rows)
        new /= np.linalg.norm(new, axis=1, keepdims=True) + 1e-12
        old = self.identities.get(name)
        self.identities[name] = new if old is None else np.concatenate([old, new])
        return len(self.identities[name])

    def remove(self, name: str) -> bool:
        """Forget ``name`` and its embeddings; return whether it was enrolled."""
        return self.identities.pop(name, None) is not None

    def match(self, embedding: np.ndarray) -> Match:
        """Best identity for an embedding: the highest similarity to any of its enrolled embeddings.

        Returns ``Match(None, …)`` when no identity reaches the threshold.
        """
        best_name, best = None, -1.0
        vector = embedding / (np.linalg.norm(embedding) + 1e-12)
        for name, rows in self.identities.items():
            similarity = float((rows @ vector).max())
            if similarity > best:
                best_name, best = name, similarity
        if best_name is None or best < self.threshold:
            return Match(None, best, best_name)
        return Match(best_name, best, best_name)

    def save(self, path: Path) -> None:
        """Write the gallery as a ``.npz`` of embeddings only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"id:{name}": rows for name, rows in self.identities.items()}
        with path.open("wb") as fh:
            np.savez(fh, threshold=np.array(self.threshold), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> Gallery:
        """Read a gallery written by :meth:`save`."""
        with np.load(path) as data:
            identities = {k[3:]: data[k] for k in data.files if k.startswith("id:")}
            return cls(threshold=float(data["threshold"]), identities=identities)
