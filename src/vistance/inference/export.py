"""``vistance export RUN``: an OpenVINO export of a checkpoint's encoder, fp32 and calibrated int8, with the
label agreement of every engine and precision measured on the test split.

    vistance export runs/recommended                      # calibrate on its training split, measure on its test split
    vistance export path/to/checkpoint --calibration train.jsonl --agreement-on test.jsonl

What it does, with the field's own tools and no hand-written graph code:

1. runs the checkpoint (torch fp32) over up to ``--calibration-size`` training-split sentences and
   records the encoder's inputs exactly as prediction builds them (preprocessing, article context,
   length-sorted batches);
2. converts each encoder with ``openvino.convert_model`` (``openvino/<name>.xml``, run at fp32 or bf16)
   and quantises it statically with NNCF on those inputs (``openvino/<name>-int8.xml``: int8 weights
   and activations, transformer-aware: softmax, norms and the head stay in floating point);
3. predicts the test split with torch fp32 and with every other engine × precision this CPU runs, and
   records in ``vistance.json`` (``extras.engines``) the share of sentences whose label (the shipped
   decision: calibrated probabilities, the stored claim threshold) is the same, with the speed seen;
4. adds the table to the model card.

The folder is written beside the checkpoint and renamed into place when complete: an interrupted export
leaves the checkpoint as it was. :mod:`vistance.inference.engines` reads what this writes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, InputError, VistanceError
from . import engines as eng

CALIBRATION_SIZE = 300
"""NNCF's own default subset is 300 samples; more buys nothing measurable on this model (issue 20)."""
CALIBRATION_BATCH = 8
CARD_HEADING = "## Inference engines"


class _Recorder(eng._ModuleLike):
    """Passes batches to the torch module and keeps a copy of each (the calibration inputs)."""

    def __init__(self, module):
        self.module, self.config, self.batches = module, module.config, []

    def __call__(self, **batch):
        self.batches.append({k: v.detach().cpu().numpy() for k, v in batch.items()})
        return self.module(**batch)


def _rows(path: Path | None, fallback: Path | None, what: str, flag: str) -> tuple[list[dict], str]:
    from ..data.tables import read_table

    source = path or fallback
    if source is None or not Path(source).is_file():
        raise InputError(
            f"no {what} sentences: the checkpoint is not inside a run folder with splits/; pass {flag} FILE"
        )
    table = read_table(source, InputError)
    rows = [r for _, r in table.rows if isinstance(r.get("text"), str) and r["text"].strip()]
    if not rows:
        raise InputError(f"{source}: no sentences with a 'text' to use as {what} data")
    return rows, str(source)


def _contexts(predictor, rows: Sequence[dict]) -> list[str] | None:
    return [r.get("context") or "" for r in rows] if predictor.reads_context else None


def _labels(predictor, rows: Sequence[dict], batch_size: int = 32) -> tuple[list[str], np.ndarray, float]:
    texts = [r["text"] for r in rows]
    start = time.perf_counter()
    probs = predictor.predict_proba(texts, batch_size=batch_size, contexts=_contexts(predictor, rows))
    seconds = time.perf_counter() - start
    return predictor.decision.labels(probs, predictor.task, rows), probs, seconds


def combinations() -> list[tuple[str, str]]:
    """Engine × precision pairs measured against torch fp32 on this CPU (bf16 only where it is native)."""
    bf16 = eng.cpu_has_bf16()
    return [
        (e, p) for e in eng.ENGINES for p in eng.PRECISIONS if (e, p) != ("torch", "fp32") and (p != "bf16" or bf16)
    ]


def export(
    path: str | Path,
    *,
    calibration: Path | None = None,
    agreement_on: Path | None = None,
    calibration_size: int = CALIBRATION_SIZE,
    seed: int = 0,
    train_rows: Sequence[dict] | None = None,
    test_rows: Sequence[dict] | None = None,
    say=print,
) -> dict:
    """Export ``path``'s encoders (see the module docstring); returns the agreement records written."""
    try:
        import nncf
        import openvino as ov
    except ImportError as e:
        raise CheckpointError(
            f"vistance export needs openvino and nncf ({e.name} is missing): pip install openvino nncf"
        ) from None
    from ..checkpoint import load_predictor, read_meta, resolve_checkpoint, write_meta

    directory = resolve_checkpoint(path)
    splits = directory.parent / "splits" if directory.name == "checkpoint" else None
    if train_rows is None:
        train_rows, cal_source = _rows(
            calibration, splits / "train.jsonl" if splits else None, "calibration", "--calibration"
        )
    else:
        cal_source = "training split"
    if test_rows is None:
        test_rows, test_source = _rows(
            agreement_on, splits / "test.jsonl" if splits else None, "test", "--agreement-on"
        )
    else:
        test_rows, test_source = list(test_rows), "test split"
    cal = list(train_rows)
    if calibration_size < len(cal):
        cal = random.Random(seed).sample(cal, calibration_size)

    predictor = load_predictor(directory)
    slots = eng.slots(predictor)
    if not slots:
        raise CheckpointError(
            f"{directory}: a {predictor.kind!r} checkpoint has no encoder to export; it runs as it is"
        )
    # 1. The encoders' inputs on calibration sentences, as prediction builds them.
    recorders = []
    for slot in slots:
        recorders.append(_Recorder(slot.module))
        slot.module = recorders[-1]
    say(f"export: recording {len(cal)} calibration sentences ({cal_source})")
    try:
        predictor.predict_proba(
            [r["text"] for r in cal], batch_size=CALIBRATION_BATCH, contexts=_contexts(predictor, cal)
        )
    finally:  # the frozen kinds share their encoder with every predictor in the process
        for slot, rec in zip(slots, recorders):
            slot.module = rec.module

    # 2. Convert and quantise into a sibling folder, renamed into place when complete.
    import torch

    from ..data.tables import atomic_folder

    with atomic_folder(directory / eng.EXPORT_DIR) as tmp:
        for slot, rec in zip(slots, recorders):
            example = {k: torch.from_numpy(v) for k, v in rec.batches[0].items()}
            start = time.perf_counter()
            with warnings.catch_warnings():  # the tracer's notes on Python branches it fixes for these shapes
                warnings.simplefilter("ignore")
                fp = ov.convert_model(rec.module, example_input=example)
            ov.save_model(fp, str(tmp / f"{slot.name}.xml"))
            q = nncf.quantize(
                fp, nncf.Dataset(rec.batches), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(rec.batches)
            )
            ov.save_model(q, str(tmp / f"{slot.name}-int8.xml"))
            say(f"export: {slot.name} converted and quantised in {time.perf_counter() - start:.0f} s")

    # 3. Agreement with torch fp32 on the test split, for each engine and precision.
    reference, ref_probs, ref_s = _labels(predictor, test_rows)
    n = len(test_rows)
    found: dict = {"torch": {"fp32": {"agreement": 1.0, "n": n, "sentences_per_s": round(n / ref_s, 1)}}}
    for engine, precision in combinations():
        p = load_predictor(directory)
        eng.apply(p, eng.Choice(engine, precision, "export"))
        labels, probs, seconds = _labels(p, test_rows)
        agree = float(np.mean([a == b for a, b in zip(labels, reference)]))
        found.setdefault(engine, {})[precision] = {
            "agreement": round(agree, 4),
            "n": n,
            "sentences_per_s": round(n / seconds, 1),
            "max_abs_prob_diff": round(float(np.abs(probs - ref_probs).max()), 4),
        }
        say(f"export: {engine} {precision}: {agree:.1%} of fp32's labels, {n / seconds:.0f} sentences/s")

    meta = read_meta(directory)
    meta.extras["engines"] = found
    meta.extras["export"] = {
        "dir": eng.EXPORT_DIR,
        "calibration": {"source": cal_source, "n": len(cal), "seed": seed},
        "agreement_on": {"source": test_source, "n": n},
        "openvino": ov.__version__,
        "nncf": nncf.__version__,
        "cpu_bf16": eng.cpu_has_bf16(),
    }
    write_meta(directory, meta)
    _card(directory, meta)
    return found


def card_section(meta) -> str:
    """The model card's table of engines: agreement with torch fp32 and speed, as the export measured."""
    found, info = eng.records(meta), (meta.extras or {}).get("export", {})
    lines = [
        CARD_HEADING,
        "",
        f"Label agreement with torch fp32 on {info.get('agreement_on', {}).get('n', '?')} test-split sentences "
        f"({info.get('agreement_on', {}).get('source', '?')}); int8 calibrated on "
        f"{info.get('calibration', {}).get('n', '?')} training sentences. Speeds are those seen during the "
        "export (for comparable figures: `vistance bench predict --checkpoint`).",
        "",
        "| engine | precision | label agreement | sentences/s |",
        "|---|---|---|---|",
    ]
    for engine, by in found.items():
        for precision, r in by.items():
            lines.append(f"| {engine} | {precision} | {r['agreement']:.1%} | {r.get('sentences_per_s', '–')} |")
    lines += [
        "",
        f"The default runs the fastest precision keeping at least {eng.DEFAULT_MIN_AGREEMENT:.1%} of the "
        f"labels; int8 below {eng.INT8_MIN_AGREEMENT:.0%} is refused.",
        "",
    ]
    return "\n".join(lines)


def _card(directory: Path, meta) -> None:
    from ..checkpoint import CARD_FILE
    from ..data.tables import atomic_write_text

    card = directory / CARD_FILE
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    if CARD_HEADING in text:  # replace the section an earlier export wrote
        head, _, rest = text.partition(CARD_HEADING)
        nxt = rest.find("\n## ")
        text = head + (rest[nxt + 1 :] if nxt >= 0 else "")
    atomic_write_text(card, text.rstrip("\n") + "\n\n" + card_section(meta))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vistance export",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="a run folder or checkpoint folder")
    p.add_argument(
        "--calibration", type=Path, help="sentences to calibrate int8 on (default: the run's splits/train.jsonl)"
    )
    p.add_argument(
        "--agreement-on",
        type=Path,
        help="sentences to measure label agreement on (default: the run's splits/test.jsonl)",
    )
    p.add_argument(
        "--calibration-size",
        type=int,
        default=CALIBRATION_SIZE,
        help=f"calibration sentences, drawn at random (default {CALIBRATION_SIZE})",
    )
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.calibration_size < 1:
        print("error: --calibration-size must be at least 1", file=sys.stderr)
        return 2
    try:
        found = export(
            args.model,
            calibration=args.calibration,
            agreement_on=args.agreement_on,
            calibration_size=args.calibration_size,
            seed=args.seed,
        )
    except VistanceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from ..checkpoint import load_predictor

    int8 = found.get("openvino", {}).get("int8", {}).get("agreement", 0.0)
    print(
        f"exported; int8 keeps {int8:.1%} of fp32's labels; the default is now {eng.choose(load_predictor(args.model))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
