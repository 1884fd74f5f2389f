"""Export sentences to an annotation tool and import its export back into the corpus format."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..data import atomic_write_text, write_jsonl
from ..errors import InputError
from . import doccano, labelstudio
from .records import ImportResult, export_meta, write_corpus
from .sources import read_sentences

FORMATS = ("labelstudio", "doccano")
HIDDEN_FIELDS = ("doc_label", "pred", "probs", "score")
"""Never shown to annotators: the pool's per-document viewpoint label and a ranker's model output
would anchor their judgement (a model's guess, when wanted, goes through the tool's own channel)."""


def model_name(checkpoint: str | Path) -> str:
    """What tells one model from another in a model-version string: the run folder's name for
    ``<run>/checkpoint`` (every run's checkpoint folder is called ``checkpoint``, which made every
    model the same version in Label Studio's prediction selector), else the folder's own name."""
    path = Path(checkpoint).resolve()
    return path.parent.name if path.name == "checkpoint" and path.parent.name else path.name


def model_guesses(
    texts: list[str], model: str | Path, stance_model: str | Path | None = None
) -> tuple[list[dict], str]:
    """(StanceClassifier results, a model-version string) for ``texts``."""
    from ..inference import StanceClassifier

    clf = StanceClassifier.from_pretrained(model, stance_path=stance_model)
    p = clf.predictor
    version = f"vistance-{p.kind}-{p.task}:{model_name(p.path)}"
    if clf.stance_predictor is not None:
        version += f"+{model_name(clf.stance_predictor.path)}"
    return clf.predict(texts, progress=len(texts) > 256), version


def config_path(out: str | Path) -> Path:
    """Where the Label Studio labelling config goes: ``<out-stem>.labelstudio.xml`` beside ``out``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.labelstudio.xml")


def export_file(
    input: str | Path,
    fmt: str,
    out: str | Path,
    *,
    model: str | Path | None = None,
    stance_model: str | Path | None = None,
    text_field: str = "text",
    guesses: Sequence[dict] | None = None,
    model_version: str = "",
) -> list[Path]:
    """Write the sentences of ``input`` as ``fmt`` tasks to ``out``; returns the files written.

    ``guesses`` (StanceClassifier results, one per sentence) may be given directly instead of a
    ``model`` path (tests, or predictions computed elsewhere).
    """
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    sentences = [export_meta(s, HIDDEN_FIELDS) for s in read_sentences(input, text_field)]
    if not sentences:
        raise InputError(f"{input}: no sentences to export")
    if model is not None:
        guesses, model_version = model_guesses([s["text"] for s in sentences], model, stance_model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "labelstudio":
        tasks = labelstudio.make_tasks(sentences, guesses, model_version)
        atomic_write_text(out, json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
        xml = config_path(out)
        atomic_write_text(xml, labelstudio.label_config())
        return [out, xml]
    write_jsonl(out, doccano.make_lines(sentences, guesses))
    return [out]


def detect_format(path: str | Path) -> str:
    """labelstudio for a JSON list of tasks, doccano for JSONL (one object per line)."""
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        head = f.read(4096).lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return "labelstudio"
    if head.startswith("{"):
        first = head.split("\n", 1)[0]
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return "labelstudio"  # a pretty-printed single task
        return "labelstudio" if "data" in obj and "annotations" in obj else "doccano"
    raise InputError(f"{path}: neither a Label Studio JSON export nor a doccano JSONL export")


def import_file(
    path: str | Path,
    out: str | Path,
    *,
    fmt: str | None = None,
    batch: str | None = None,
    against: Sequence[str | Path] = (),
    mode: str = "new",
) -> ImportResult:
    """Read a tool export, convert, validate, and write ``out`` only if everything is valid.

    ``mode``: new (refuse an existing ``out``), append or overwrite (see :func:`write_corpus`).
    """
    fmt = fmt or detect_format(path)
    reader = {"labelstudio": labelstudio.read_export, "doccano": doccano.read_export}.get(fmt)
    if reader is None:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    items, skipped = reader(path)
    return write_corpus(items, out, skipped=skipped, batch=batch, against=against, mode=mode)
