"""Label Studio: task JSON out (with the model's guesses as pre-annotations), JSON export back in.

The labelling config (``resources/labelstudio.xml``) has three controls on the ``text`` object:
``claim`` (claim / not_claim, required), ``stance`` (favor / against / neutral, shown and
required only when claim is chosen) and the free-text ``speaker``. A task is
``{"data": {"text", "id", "article", "date", ...meta}, "predictions": [...]}``; the meta fields
come back untouched in Label Studio's JSON export, which is how an annotation finds its sentence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from ..errors import InputError
from .records import Annotated

TEXT, CLAIM, STANCE, SPEAKER = "text", "claim", "stance", "speaker"


class ExportFormatError(InputError):
    """The file is not a Label Studio JSON export; the message says what to export instead."""


def label_config() -> str:
    """The labelling config XML (paste it into Settings → Labeling Interface → Code)."""
    return resources.files("vistance").joinpath("resources/labelstudio.xml").read_text(encoding="utf-8")


def _choice(control: str, value: str) -> dict:
    return {"from_name": control, "to_name": TEXT, "type": "choices", "value": {"choices": [value]}}


def prediction(guess: dict, model_version: str) -> dict:
    """A Label Studio prediction from a :meth:`StanceClassifier.predict` result (claim, stance, and
    the speaker when the checkpoint attributes speakers).

    ``score`` is the probability of the whole guess (claim and stance together), which is what
    Label Studio sorts tasks by when annotators ask for the least confident predictions first.
    """
    result, score = [], None
    if guess.get("claim") is not None:
        result.append(_choice(CLAIM, guess["claim"]))
        claim_score = guess.get("claim_score")
        if claim_score is not None:
            score = claim_score if guess["claim"] == "claim" else 1.0 - claim_score
    stance = guess.get("stance")
    if stance is not None:
        result.append(_choice(STANCE, stance))
        scores = guess.get("stance_scores") or {}
        if stance in scores:
            score = scores[stance] * (score if score is not None else 1.0)
    speaker = guess.get("speaker")
    if speaker and guess.get("claim") != "not_claim":
        # Label Studio 1.23 pre-fills the TextArea from this and keeps it on submit (origin "prediction").
        result.append({"from_name": SPEAKER, "to_name": TEXT, "type": "textarea", "value": {"text": [speaker]}})
    out = {"model_version": model_version, "result": result}
    if score is not None:
        out["score"] = round(float(score), 4)
    return out


def make_tasks(sentences: Sequence[dict], guesses: Sequence[dict] | None = None, model_version: str = "") -> list[dict]:
    """Label Studio tasks for ``sentences`` (meta fields as given), with predictions when ``guesses``."""
    tasks = []
    for i, s in enumerate(sentences):
        task = {"data": dict(s)}
        if guesses is not None:
            task["predictions"] = [prediction(guesses[i], model_version)]
        tasks.append(task)
    return tasks


def _latest(annotations: list) -> dict | None:
    usable = [
        (a.get("updated_at") or a.get("created_at") or "", i, a)
        for i, a in enumerate(annotations or [])
        if isinstance(a, dict) and not a.get("was_cancelled") and a.get("result")
    ]
    # ISO timestamps order correctly as strings; list order breaks ties (later = newer).
    return max(usable, key=lambda t: (t[0], t[1]))[2] if usable else None


def _read_result(item: Annotated, result: list) -> None:
    for r in result:
        name, kind, value = r.get("from_name"), r.get("type"), r.get("value") or {}
        if kind == "choices" and name in (CLAIM, STANCE):
            choices = value.get("choices") or []
            if len(choices) > 1:
                item.problems.append(f"{item.where}: several {name} choices {choices} (choose one)")
            setattr(item, name, choices[0] if choices else None)
        elif kind == "textarea" and name == SPEAKER:
            lines = [t.strip() for t in value.get("text") or [] if t and t.strip()]
            item.speaker = " ".join(lines) or None


def read_export(path: str | Path) -> tuple[list[Annotated], int]:
    """(annotated items, number of tasks skipped) from a Label Studio JSON export.

    Per task the latest non-cancelled annotation counts (by ``updated_at``, then order); tasks
    with none are skipped. Predictions are never read: a model's guess is not a label.
    """
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ExportFormatError(f"{path}:{e.lineno}: malformed JSON ({e.msg})") from None
    if isinstance(tasks, dict):  # a single task
        tasks = [tasks]
    if not isinstance(tasks, list) or any(not isinstance(t, dict) or "data" not in t for t in tasks):
        raise ExportFormatError(
            f"{path}: not a Label Studio JSON export (a list of tasks with 'data' and 'annotations'); "
            "export with the 'JSON' format, not JSON_MIN or CSV"
        )
    items, skipped = [], 0
    for n, task in enumerate(tasks, 1):
        ann = _latest(task.get("annotations"))
        if ann is None:
            skipped += 1
            continue
        data = task["data"]
        # Label Studio's own task id ("#11" in its UI) is where the annotator can find the task; the
        # position in the file is not (an export lists only annotated tasks, so the two differ).
        task_ref = f"#{task['id']}" if isinstance(task.get("id"), int) else str(n)
        item = Annotated(where=f"{path}: task {task_ref} (id {data.get('id')})", meta=dict(data))
        _read_result(item, ann["result"])
        items.append(item)
    return items, skipped
