"""The CPU baseline: TF-IDF word and character n-grams + class-weighted logistic regression.

It takes text that is already preprocessed (NFC, word-segmented: ``Tổng_thống Nga ...``), the same
input PhoBERT sees, so the two are compared on equal footing. Word n-grams see the segmented
words (``giáo_trình`` is one token); character n-grams catch spelling variants, missing diacritics
and words the segmenter split differently.

Saved models are ``model.skops`` (skops' zip of JSON + numpy arrays, no pickle) plus
``baseline.json``. Loading lists the types inside the file and refuses any that is not on
:data:`ALLOWED_TYPES`, so a tampered file fails with a clear error instead of running code.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import FeatureUnion, Pipeline

from ..data.tables import atomic_path, atomic_write_text
from ..errors import CheckpointError, VistanceError
from . import ModelKind, register
from .base import Learner, Predictor

logger = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
META_FILE = "baseline.json"

# Every type a fitted pipeline of this module contains. skops trusts most of them already;
# listing them here means a skops upgrade that stops trusting one still loads our own files,
# while anything else (a function, an unknown class) is refused.
ALLOWED_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.str",
        "builtins.tuple",
        "builtins.type",
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
        "vistance.models.baseline.CompactTfidfVectorizer",
    }
)

# Keep every token, punctuation included: sklearn's default pattern drops one-character tokens
# and "!"/"?", which carry sentiment and stance. Segmented words keep their underscores.
WORD_TOKEN_PATTERN = r"\S+"
# lbfgs needs more than sklearn's 100 iterations to converge on TF-IDF features with C around 10.
MAX_ITER = 2000


class CompactTfidfVectorizer(TfidfVectorizer):
    """A ``TfidfVectorizer`` whose saved state holds the vocabulary as two arrays.

    skops writes a ``vocabulary_`` dict entry by entry (one ``.npy`` file per numpy-int value): for
    the ~200k n-grams of the default config that is a 40 MB, one-minute save. Stored instead as
    the UTF-8 bytes of all terms in index order plus their offsets, it is two plain arrays, saved
    and loaded in a fraction of a second, still without pickle.
    """

    def __getstate__(self):
        # A copy: for a class outside sklearn, BaseEstimator.__getstate__ returns the live __dict__.
        state = dict(super().__getstate__())
        # Only kept for introspection by older sklearn versions, and as large as the vocabulary.
        state.pop("stop_words_", None)
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            if [vocabulary[t] for t in terms] != list(range(len(terms))):
                raise ValueError("vocabulary indices are not 0..n-1; cannot store them as an ordered list")
            encoded = [t.encode("utf-8") for t in terms]
            state["vocabulary_bytes_"] = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            state["vocabulary_offsets_"] = np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64)
        return state

    def __setstate__(self, state):
        state = dict(state)
        data, offsets = state.pop("vocabulary_bytes_", None), state.pop("vocabulary_offsets_", None)
        if data is not None and offsets is not None:
            raw, ends = data.tobytes(), offsets.tolist()
            state["vocabulary_"] = {raw[ends[i] : ends[i + 1]].decode("utf-8"): i for i in range(len(ends) - 1)}
        super().__setstate__(state)


@dataclass
class BaselineConfig:
    """``model.baseline``: TF-IDF features and the logistic regression."""

    word_ngrams: list[int] = field(default_factory=lambda: [1, 3])
    char_ngrams: list[int] = field(default_factory=lambda: [2, 5])
    min_df: int = 1
    max_features: int | None = 200_000
    C: float = 10.0
    """Inverse regularisation of the logistic regression."""
    class_weight: str | None = "balanced"
    sublinear_tf: bool = True
    C_grid: list[float] = field(default_factory=list)
    """C values tried on the dev set when one is given (best dev macro-F1 wins); empty: always use C."""

    def __post_init__(self) -> None:
        for name in ("word_ngrams", "char_ngrams"):
            lo_hi = list(getattr(self, name))
            if len(lo_hi) != 2 or not 1 <= lo_hi[0] <= lo_hi[1]:
                raise ValueError(f"model.baseline.{name} must be [min, max] with 1 <= min <= max, not {lo_hi}")
        if self.min_df < 1:
            raise ValueError(f"model.baseline.min_df must be at least 1, not {self.min_df}")
        if self.max_features is not None and self.max_features < 1:
            raise ValueError(f"model.baseline.max_features must be positive or null, not {self.max_features}")
        if self.C <= 0 or any(c <= 0 for c in self.C_grid):
            raise ValueError("model.baseline.C and every value in model.baseline.C_grid must be positive")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"model.baseline.class_weight must be 'balanced' or null, not {self.class_weight!r}")


class UntrustedModelError(CheckpointError):
    """A saved baseline contains types outside :data:`ALLOWED_TYPES` (or is not one at all)."""


def _check_texts(texts, what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a list of strings, not one string")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{what}[{i}] is {type(t).__name__}, expected str")
    return texts


class BaselineClassifier:
    """TF-IDF (word + char n-grams) + logistic regression over word-segmented text.

    ``labels`` is the column order of :meth:`predict_proba`: the task's order when given to the
    constructor (a label unseen in training gets probability 0), else the sorted label strings.
    ``chosen_C`` is the regularisation actually used: ``config.C``, or the best value of
    ``config.C_grid`` on the dev set when :meth:`fit` was given one.
    """

    def __init__(self, config: BaselineConfig | None = None, labels: Sequence[str] | None = None):
        self.config = config if config is not None else BaselineConfig()
        self.labels: list[str] = [str(x) for x in labels] if labels else []
        self.chosen_C: float | None = None
        self.dev_scores: dict[str, float] = {}
        """Dev macro-F1 of each C tried (empty when no grid search ran)."""
        self.fit_seconds: float | None = None
        self.pipeline: Pipeline | None = None

    # ------------------------------------------------------------------ building
    def _features(self) -> FeatureUnion:
        c = self.config
        # lowercase=True: PhoBERT input stays cased, but for counts "Nga" and "nga" are the same word.
        common = {"min_df": c.min_df, "max_features": c.max_features, "sublinear_tf": c.sublinear_tf, "lowercase": True}
        word = CompactTfidfVectorizer(token_pattern=WORD_TOKEN_PATTERN, ngram_range=tuple(c.word_ngrams), **common)
        # analyzer="char", not "char_wb": n-grams that straddle two words ("ng ha" in "không hay") carry
        # negation and short phrases; on UIT-VSFC dev this beat char_wb by ~0.006 macro-F1 on average.
        char = CompactTfidfVectorizer(analyzer="char", ngram_range=tuple(c.char_ngrams), **common)
        return FeatureUnion([("word", word), ("char", char)])

    def _classifier(self, C: float) -> LogisticRegression:
        return LogisticRegression(C=C, class_weight=self.config.class_weight, max_iter=MAX_ITER)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        dev_texts: Sequence[str] | None = None,
        dev_labels: Sequence[str] | None = None,
    ) -> BaselineClassifier:
        """Fit on preprocessed ``texts``; with dev data and a ``C_grid``, pick C by dev macro-F1."""
        texts = _check_texts(texts)
        labels = [str(y) for y in labels]
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError(f"need at least two classes to train, got {sorted(set(labels))}")
        start = time.perf_counter()
        features = self._features()
        try:
            X = features.fit_transform(texts)
        except ValueError as e:  # e.g. "empty vocabulary" when every text is blank
            raise ValueError(f"cannot build TF-IDF features: {e}") from None

        grid = list(self.config.C_grid or [])
        self.dev_scores = {}
        if dev_texts is not None and dev_labels is not None and grid:
            dev_texts = _check_texts(dev_texts, "dev_texts")
            dev_labels = [str(y) for y in dev_labels]
            if len(dev_texts) != len(dev_labels):
                raise ValueError(f"got {len(dev_texts)} dev texts but {len(dev_labels)} dev labels")
            X_dev = features.transform(dev_texts)
            best = None
            # The vectorisers are fitted once on train; only the cheap LR is refitted per C.
            for C in grid:
                clf = self._classifier(C).fit(X, labels)
                score = float(f1_score(dev_labels, clf.predict(X_dev), average="macro", zero_division=0))
                self.dev_scores[str(C)] = score
                logger.info("baseline C=%g dev macro-F1 %.4f", C, score)
                # Strictly greater: on a tie the earlier (grid order, usually smaller) C wins.
                if best is None or score > best[0]:
                    best = (score, C, clf)
            _, self.chosen_C, clf = best
        else:
            self.chosen_C = float(self.config.C)
            clf = self._classifier(self.chosen_C).fit(X, labels)
        self.pipeline = Pipeline([("features", features), ("clf", clf)])
        classes = [str(c) for c in clf.classes_]
        unknown = [c for c in classes if self.labels and c not in self.labels]
        if unknown:
            raise ValueError(f"training labels {unknown} are not among the model's labels {self.labels}")
        self.labels = self.labels or classes
        self.fit_seconds = time.perf_counter() - start
        return self

    # ------------------------------------------------------------------ prediction
    def _fitted(self) -> Pipeline:
        if self.pipeline is None:
            raise RuntimeError("BaselineClassifier is not fitted: call fit() or load() first")
        return self.pipeline

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n, len(labels)), columns in ``labels`` order; rows sum to 1."""
        pipeline = self._fitted()
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        raw = pipeline.predict_proba(texts)
        classes = [str(c) for c in pipeline.named_steps["clf"].classes_]
        if classes == self.labels:
            return raw
        out = np.zeros((len(texts), len(self.labels)), dtype=raw.dtype)
        out[:, [self.labels.index(c) for c in classes]] = raw
        return out

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> None:
        """Write ``model.skops`` and ``baseline.json`` into ``directory`` (created if needed)."""
        pipeline = self._fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / MODEL_FILE) as tmp:
            sio.dump(pipeline, tmp)
        meta = {
            "labels": self.labels,
            "config": asdict(self.config),
            "chosen_C": self.chosen_C,
            "dev_scores": self.dev_scores,
            "fit_seconds": self.fit_seconds,
            "num_parameters": self.num_parameters(),
            "versions": _versions(),
        }
        atomic_write_text(directory / META_FILE, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> BaselineClassifier:
        """Load a saved baseline, refusing any type in ``model.skops`` outside :data:`ALLOWED_TYPES`."""
        directory = Path(directory)
        model_path, meta_path = directory / MODEL_FILE, directory / META_FILE
        for p in (model_path, meta_path):
            if not p.is_file():
                raise CheckpointError(f"{p}: missing; {directory} is not a saved baseline")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointError(f"{meta_path}: not valid JSON ({e})") from None
        pipeline = _load_pipeline(model_path)

        try:
            config = BaselineConfig(**{k: v for k, v in meta.get("config", {}).items() if k in _config_fields()})
        except (TypeError, ValueError) as e:
            raise UntrustedModelError(f"{meta_path}: invalid settings ({e})") from None
        model = cls(config)
        model.pipeline = pipeline
        classes = [str(c) for c in pipeline.named_steps["clf"].classes_]
        model.labels = [str(x) for x in meta.get("labels") or classes]
        if not set(classes) <= set(model.labels):
            raise UntrustedModelError(
                f"{directory}: labels in {META_FILE} {model.labels} do not cover the model's classes {classes}"
            )
        model.chosen_C = meta.get("chosen_C")
        model.dev_scores = meta.get("dev_scores", {})
        model.fit_seconds = meta.get("fit_seconds")
        return model

    # ------------------------------------------------------------------ reporting
    def num_parameters(self) -> int:
        """Learnt weights of the logistic regression (coefficients + intercepts)."""
        clf = self._fitted().named_steps["clf"]
        return int(clf.coef_.size + clf.intercept_.size)

    def num_features(self) -> int:
        return int(self._fitted().named_steps["clf"].coef_.shape[1])

    def size_bytes(self) -> int:
        """Size of the serialised model (what ``model.skops`` takes on disk)."""
        return len(sio.dumps(self._fitted()))


def _config_fields() -> set[str]:
    return {f.name for f in fields(BaselineConfig)}


def _load_pipeline(model_path: Path) -> Pipeline:
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file makes skops raise many types
        raise UntrustedModelError(f"{model_path}: not a readable skops file ({type(e).__name__}: {e})") from None
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise UntrustedModelError(f"{model_path}: refusing to load untrusted types {', '.join(refused)}")
    try:
        # Trust exactly the types just checked against the allow-list, never trusted=True.
        obj = sio.load(model_path, trusted=list(untrusted))
    except Exception as e:  # noqa: BLE001 - same: report any failure as one clear error
        raise UntrustedModelError(f"{model_path}: cannot load ({type(e).__name__}: {e})") from None
    if not (
        isinstance(obj, Pipeline)
        and list(obj.named_steps) == ["features", "clf"]
        and isinstance(obj.named_steps["features"], FeatureUnion)
        and all(isinstance(t, CompactTfidfVectorizer) for _, t in obj.named_steps["features"].transformer_list)
        and isinstance(obj.named_steps["clf"], LogisticRegression)
    ):
        raise UntrustedModelError(f"{model_path}: not a vistance baseline pipeline (got {type(obj).__name__})")
    return obj


def _versions() -> dict[str, str]:
    import sklearn
    import skops

    return {"scikit-learn": sklearn.__version__, "skops": skops.__version__, "numpy": np.__version__}


# --------------------------------------------------------------------------- the model kind


class BaselineLearner(Learner):
    """TF-IDF word + character n-grams and class-weighted logistic regression over the shared preprocessing."""

    def __init__(self, cfg, task, out_dir, train=()):
        super().__init__(cfg, task, out_dir, train)
        self.classifier = BaselineClassifier(cfg.model.baseline, labels=self.labels)

    def fit(self, train, dev, resume=False, callbacks=()):
        start = time.time()
        texts, dev_texts = self.texts(train), self.texts(dev)
        try:
            self.classifier.fit(
                texts, [e["label"] for e in train], dev_texts=dev_texts, dev_labels=[e["label"] for e in dev]
            )
        except ValueError as e:
            raise VistanceError(f"baseline: {e}") from None
        self.train_seconds = time.time() - start
        return self

    def predict_proba(self, examples):
        if not examples:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.asarray(self.classifier.predict_proba(self.texts(examples)), dtype=np.float32)

    def num_parameters(self) -> int:
        return self.classifier.num_parameters()

    def size_bytes(self) -> int | None:
        # Measured on the saved checkpoint instead: serialising a 200k-term vocabulary just to
        # count its bytes costs minutes on UIT-VSFC.
        return None

    def save(self, directory, meta) -> None:
        from ..checkpoint import write_meta

        self.classifier.save(directory)
        write_meta(directory, meta)


class BaselinePredictor(Predictor):
    def __init__(self, path, meta):
        super().__init__(path, meta)
        self.classifier = BaselineClassifier.load(path)
        if list(self.classifier.labels) != self.labels:
            raise CheckpointError(f"{path}: baseline labels {list(self.classifier.labels)} != {self.labels}")

    def _predict_proba(self, texts, batch_size, progress):
        return np.asarray(self.classifier.predict_proba(texts), dtype=np.float32)


register(
    ModelKind(
        "baseline",
        BaselineLearner,
        BaselinePredictor,
        options=BaselineConfig,
        trainer_keys=False,
        description="TF-IDF word and character n-grams + class-weighted logistic regression (CPU, seconds)",
        small_checkpoint=True,
    )
)

__all__ = [
    "ALLOWED_TYPES",
    "META_FILE",
    "MODEL_FILE",
    "BaselineClassifier",
    "BaselineConfig",
    "BaselineLearner",
    "BaselinePredictor",
    "CompactTfidfVectorizer",
    "UntrustedModelError",
]
