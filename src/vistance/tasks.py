"""What the model is asked to predict: a :class:`Task` names its labels in one canonical order, says
how a labelled corpus record maps to a label, and which metrics headline its reports.

Every place that needs labels takes them from here: ``config.id2label`` and the order of every
probability column, ``metrics.json``, ``predictions.jsonl`` and ``vistance.json``. A checkpoint
records its task's name, and inference reads the task back from it rather than guessing it from
the label set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

NOT_CLAIM, CLAIM = "not_claim", "claim"
CLAIM_LABELS = (CLAIM, NOT_CLAIM)
"""The values of a corpus record's ``claim`` field."""
STANCE_LABELS = ("favor", "against", "neutral")
HEADLINE_METRICS = ("accuracy", "macro_f1", "f_avg", "claim_f1")
"""The scalar metrics reported per epoch, per fold, as mean ± std over folds, and in comparisons."""


def _joint(record: dict) -> str | None:
    return NOT_CLAIM if record["claim"] == NOT_CLAIM else record["stance"]


def _claim(record: dict) -> str | None:
    return record["claim"]


def _stance(record: dict) -> str | None:
    return record["stance"] if record["claim"] == CLAIM else None


@dataclass(frozen=True)
class Task:
    name: str
    labels: tuple[str, ...]
    """Canonical label order: the order of every model output, metric table and saved label list."""
    description: str
    label_of: Callable[[dict], str | None] | None = None
    """Corpus record -> label (None: the record is not part of the task). None for a custom task,
    whose examples come with their label."""

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other) -> bool:  # a task equals its name, so ``predictor.task == "joint"`` reads naturally
        if isinstance(other, str):
            return self.name == other
        if not isinstance(other, Task):
            return NotImplemented
        return (self.name, self.labels) == (other.name, other.labels)

    def __hash__(self) -> int:
        return hash((self.name, self.labels))

    @property
    def detects_claims(self) -> bool:
        """True when the task separates claims from other sentences (joint and claim)."""
        return NOT_CLAIM in self.labels

    @property
    def has_stance(self) -> bool:
        return set(STANCE_LABELS) <= set(self.labels)

    @property
    def is_corpus_task(self) -> bool:
        return self.label_of is not None

    def examples(self, records: Iterable[dict]) -> list[dict]:
        """Corpus records of this task with a ``label`` key added (non-claims dropped for ``stance``)."""
        if self.label_of is None:
            raise ValueError(f"task {self.name!r} reads its labels from the data, not from corpus records")
        out = []
        for r in records:
            label = self.label_of(r)
            if label is not None:
                out.append({**r, "label": label})
        return out


JOINT = Task(
    "joint",
    (NOT_CLAIM, *STANCE_LABELS),
    "claim detection and stance in one 4-way decision (not_claim / favor / against / neutral)",
    _joint,
)
CLAIM_TASK = Task("claim", (NOT_CLAIM, CLAIM), "claim detection (claim vs not_claim)", _claim)
STANCE = Task(
    "stance", STANCE_LABELS, "stance of a claim toward the peace process (favor / against / neutral)", _stance
)
TASKS: dict[str, Task] = {t.name: t for t in (JOINT, CLAIM_TASK, STANCE)}
"""The corpus tasks; ``custom`` (any table with a label column) is made by :func:`custom_task`."""
CUSTOM = "custom"


def label_order(labels: Iterable[str]) -> tuple[str, ...]:
    """A custom task's canonical order: numeric labels numerically (0, 1, 2, 10), others alphabetically."""
    labels = set(labels)
    try:
        return tuple(sorted(labels, key=float))
    except ValueError:
        return tuple(sorted(labels))


def custom_task(labels: Iterable[str]) -> Task:
    return Task(CUSTOM, label_order(labels), "classification with labels taken from the data")


def get_task(name: str, labels: Sequence[str] | None = None) -> Task:
    """The task called ``name``; ``custom`` needs its ``labels`` (as saved in a checkpoint or run)."""
    if name in TASKS:
        return TASKS[name]
    if name == CUSTOM:
        if not labels:
            raise ValueError("a custom task needs its labels")
        return Task(CUSTOM, tuple(labels), "classification with labels taken from the data")
    raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")


def outcome(result: dict) -> str:
    """The one label a prediction counts under: its stance, else claim / not_claim."""
    return result.get("stance") or result["claim"]


def decide(probs, task: Task, claim_threshold: float = 0.5) -> list[str]:
    """The label of each row of ``probs`` (columns in ``task.labels`` order), as users get it.

    A task that both detects claims and gives their stance (joint) decides in two steps, the way
    ``StanceClassifier`` reports it: claim iff ``1 - p(not_claim) >= claim_threshold``, then the most
    probable stance. Other tasks take the most probable label. Training and evaluation score this
    decision, so their metrics are those of what users see.
    """
    import numpy as np

    probs = np.asarray(probs)
    labels = list(task.labels)
    if len(probs) == 0:
        return []
    if not (task.detects_claims and task.has_stance):
        return [labels[i] for i in probs.argmax(axis=1)]
    nc = labels.index(NOT_CLAIM)
    stance_cols = [labels.index(s) for s in STANCE_LABELS]
    is_claim = 1.0 - probs[:, nc] >= claim_threshold
    best_stance = [STANCE_LABELS[i] for i in probs[:, stance_cols].argmax(axis=1)]
    return [s if c else NOT_CLAIM for c, s in zip(is_claim, best_stance)]


def as_task(task: Task | str, labels: Sequence[str] | None = None) -> Task:
    """A :class:`Task`, from itself or its name (predictors of other origins may carry only the name)."""
    return task if isinstance(task, Task) else get_task(task, labels)
