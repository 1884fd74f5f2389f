"""Inference engines: which runtime and which number format run a checkpoint's encoder.

    clf = StanceClassifier.from_pretrained("runs/recommended")                       # the default
    clf = StanceClassifier.from_pretrained("runs/recommended", engine="openvino", precision="int8")

``engine``: ``torch`` (the model as trained) or ``openvino`` (Intel's runtime, from the checkpoint's
``openvino/`` export: ``vistance export``). ``precision``: ``fp32``, ``bf16`` (torch autocast, or
OpenVINO's bf16 inference precision; only on CPUs with AVX512-BF16 or AMX, fp32 elsewhere) or
``int8`` (OpenVINO: static quantisation calibrated by NNCF on training-split sentences; torch:
dynamic quantisation, which needs no export but changes many labels, so it is never a default).

**The default** (``"auto"``): OpenVINO when the checkpoint has an export and the package is installed,
else torch; and the fastest precision (int8, then bf16, then fp32) whose label agreement with torch fp32,
measured on the test split by the export and recorded in ``vistance.json`` (``extras.engines``), is at
least :data:`DEFAULT_MIN_AGREEMENT`. A checkpoint without an export runs as it always did: torch fp32.

Only the encoder changes. The decision (temperature, claim threshold), the frozen-e5 head, the
preprocessing and the speakers are the checkpoint's. The TF-IDF baseline has no encoder and runs as
it is; so does SetFit (sentence-transformers runs its encoder).

ONNX Runtime is not offered: on this project's e5-small and CPU (AVX-512 VNNI + BF16), its per-channel
int8 ran at 166 sentences/s with 92 % label agreement, against OpenVINO int8's 218 at 99.2 % (issue 20).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from ..errors import CheckpointError, InputError

log = logging.getLogger(__name__)

ENGINES = ("torch", "openvino")
PRECISIONS = ("fp32", "bf16", "int8")
SPEED_ORDER = ("int8", "bf16", "fp32")
"""Fastest first, as measured on every CPU this project has timed (``vistance bench predict``)."""
DEFAULT_MIN_AGREEMENT = 0.995
"""The default picks a reduced precision only if it keeps at least this share of torch fp32's labels."""
INT8_MIN_AGREEMENT = 0.98
"""Loading refuses an int8 export that keeps fewer labels than this: it would mislead, not speed up."""
EXPORT_DIR = "openvino"


# --------------------------------------------------------------------------- the CPU


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where unknown."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bf16() -> bool:
    """Native bfloat16 matrix instructions (AVX512-BF16 or AMX): where bf16 is faster than fp32, not emulated.
    ``VISTANCE_CPU_BF16=0|1`` overrides the detection (tests, or a CPU that /proc/cpuinfo misreports)."""
    forced = os.environ.get("VISTANCE_CPU_BF16")
    if forced in ("0", "1"):
        return forced == "1"
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- where the encoders are


@dataclass
class Slot:
    """One torch module a predictor runs: ``getattr(owner, attr)``, exported as ``<name>.xml``."""

    owner: object
    attr: str
    name: str
    output: str  # "logits" (a sequence classifier) or "last_hidden_state" (a sentence encoder)
    holder: object = None
    """The predictor whose ``encoder`` is ``owner``, when the owner is shared (the frozen kinds' one e5 per process)."""

    @property
    def module(self):
        return getattr(self.owner, self.attr)

    @module.setter
    def module(self, value) -> None:
        setattr(self.owner, self.attr, value)


def slots(predictor, prefix: str = "") -> list[Slot]:
    """The torch modules ``predictor`` runs, in a stable order; [] for kinds with none (the baseline) or
    whose encoder another library runs (SetFit)."""
    from ..models.transformer import TransformerPredictor

    members = getattr(predictor, "members", None)
    if members is not None:  # an ensemble: each member's own
        return [s for k, m in enumerate(members, 1) for s in slots(m, f"{prefix}member-{k}-")]
    if isinstance(predictor, TransformerPredictor):
        return [Slot(predictor, "model", f"{prefix}model", "logits")]
    encoder = getattr(predictor, "encoder", None)
    from ..models.e5 import E5Encoder

    if isinstance(encoder, E5Encoder):
        return [Slot(encoder, "model", f"{prefix}encoder", "last_hidden_state", holder=predictor)]
    return []


# --------------------------------------------------------------------------- the choice


@dataclass(frozen=True)
class Choice:
    engine: str
    precision: str
    why: str

    def __str__(self) -> str:
        return f"{self.engine} {self.precision} ({self.why})"


def records(meta) -> dict:
    """``{engine: {precision: {"agreement", "n", "sentences_per_s"}}}`` measured by the export."""
    return dict((getattr(meta, "extras", None) or {}).get("engines") or {})


def agreement(meta, engine: str, precision: str) -> float | None:
    rec = records(meta).get(engine, {}).get(precision)
    return None if rec is None else float(rec["agreement"])


def choose(predictor, engine: str | None = "auto", precision: str | None = "auto") -> Choice:
    """The engine and precision to run ``predictor`` with (see the module docstring); one-line errors for
    choices the checkpoint or this machine cannot honour."""
    engine, precision = engine or "auto", precision or "auto"
    if engine not in ("auto", *ENGINES):
        raise InputError(f"engine must be one of auto, {', '.join(ENGINES)}; not {engine!r}")
    if precision not in ("auto", *PRECISIONS):
        raise InputError(f"precision must be one of auto, {', '.join(PRECISIONS)}; not {precision!r}")
    if not slots(predictor):
        kind = getattr(predictor, "kind", type(predictor).__name__)
        if (engine, precision) not in (("auto", "auto"), ("torch", "auto"), ("torch", "fp32"), ("auto", "fp32")):
            raise CheckpointError(
                f"{getattr(predictor, 'path', '')}: a {kind!r} checkpoint has no encoder for "
                f"engine={engine} precision={precision}; it runs as it is"
            )
        return Choice("torch", "fp32", f"a {kind} checkpoint runs as it is")
    path, meta = Path(predictor.path), predictor.meta
    exported = all((path / EXPORT_DIR / f"{s.name}.xml").is_file() for s in slots(predictor))
    if engine == "auto":
        engine = "openvino" if exported and openvino_available() else "torch"
    if engine == "openvino":
        if not openvino_available():
            raise CheckpointError("engine=openvino needs the openvino package: pip install openvino")
        if not exported:
            raise CheckpointError(f"{path}: no OpenVINO export; run: vistance export {path}")
    bf16 = cpu_has_bf16()
    if precision == "auto":
        for p in SPEED_ORDER:
            a = agreement(meta, engine, p)
            if p == "fp32":
                return Choice(
                    engine,
                    "fp32",
                    f"no faster precision keeps {DEFAULT_MIN_AGREEMENT:.1%} of fp32's labels"
                    if engine == "openvino" or records(meta)
                    else "no export measured a faster precision",
                )
            if p == "bf16" and not bf16:
                continue
            if a is not None and a >= DEFAULT_MIN_AGREEMENT and _available(path, predictor, engine, p):
                return Choice(
                    engine, p, f"fastest precision keeping >= {DEFAULT_MIN_AGREEMENT:.1%} of fp32's labels: {a:.1%}"
                )
    if precision == "bf16" and not bf16:
        log.warning("this CPU has no native bf16 (AVX512-BF16/AMX); running fp32 instead")
        return Choice(engine, "fp32", "bf16 asked for, but this CPU has no native bf16")
    if precision == "int8" and engine == "openvino":
        if not _available(path, predictor, engine, "int8"):
            raise CheckpointError(f"{path}: no int8 export; run: vistance export {path}")
        a = agreement(meta, "openvino", "int8")
        if a is None:
            raise CheckpointError(
                f"{path}: the int8 export has no recorded label agreement; run vistance export {path} again"
            )
        if a < INT8_MIN_AGREEMENT:
            raise CheckpointError(
                f"{path}: the int8 export keeps only {a:.1%} of fp32's labels on the test split "
                f"(at least {INT8_MIN_AGREEMENT:.0%} needed); use precision fp32 or bf16"
            )
    return Choice(engine, precision, "asked for")


def _available(path: Path, predictor, engine: str, precision: str) -> bool:
    if engine == "openvino" and precision == "int8":
        return all((path / EXPORT_DIR / f"{s.name}-int8.xml").is_file() for s in slots(predictor))
    return True


def add_arguments(parser, engine_flag: str = "--engine", quantize: bool = True) -> None:
    """``--engine`` and ``--precision`` (and the older ``--quantize``) for every command that loads a model;
    ``engine_flag``: another name where ``--engine`` means something else (``vistance batch``: local or ray)."""
    parser.add_argument(
        engine_flag,
        choices=("auto", *ENGINES),
        default="auto",
        help="runtime for the encoder (default auto: openvino when the checkpoint has an export "
        "from `vistance export`, else torch)",
    )
    share = f"{DEFAULT_MIN_AGREEMENT:.1%}".replace("%", "%%")  # argparse formats help with %
    parser.add_argument(
        "--precision",
        choices=("auto", *PRECISIONS),
        default="auto",
        help="number format (default auto: the fastest whose recorded label agreement with fp32 is "
        f">= {share}; bf16 only on CPUs with AVX512-BF16/AMX)",
    )
    if quantize:
        parser.add_argument(
            "--quantize", choices=("int8", "bf16"), help="older spelling of --engine torch --precision int8|bf16"
        )


def from_args(args) -> dict:
    """The ``StanceClassifier.from_pretrained`` keywords for :func:`add_arguments`' options."""
    return {
        "engine": getattr(args, "engine", "auto"),
        "precision": getattr(args, "precision", "auto"),
        "quantize": getattr(args, "quantize", None),
    }


# --------------------------------------------------------------------------- applying it


def apply(predictor, choice: Choice) -> None:
    """Run ``predictor``'s encoders with ``choice``, in place."""
    try:
        predictor.engine = choice
    except AttributeError:  # a stand-in predictor (tests) without attributes of its own
        pass
    if choice.engine == "torch" and choice.precision == "fp32":
        return
    for slot in slots(predictor):
        if slot.holder is not None:  # the encoder is shared with every frozen-e5 predictor: change a copy of it
            import copy

            slot.owner = slot.holder.encoder = copy.copy(slot.owner)  # type: ignore[attr-defined]
        if choice.engine == "openvino":
            suffix = "-int8" if choice.precision == "int8" else ""
            slot.module = OpenVINOModule(
                Path(predictor.path) / EXPORT_DIR / f"{slot.name}{suffix}.xml",
                slot.module.config,
                slot.output,
                choice.precision,
            )
        elif choice.precision == "bf16":
            slot.module = Bf16Autocast(slot.module)
        else:  # torch int8: dynamic quantisation of the Linear layers
            slot.module = dynamic_int8(slot.module)


def load(path, engine: str | None = "auto", precision: str | None = "auto"):
    """``load_predictor`` + :func:`choose` + :func:`apply`."""
    from ..checkpoint import load_predictor

    predictor = load_predictor(path)
    apply(predictor, choose(predictor, engine, precision))
    return predictor


def dynamic_int8(module):
    """torch's dynamic int8 quantisation of the Linear layers (no calibration; labels move: see the module doc)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8)


class _ModuleLike:
    """What prediction uses of a transformers model: ``config``, ``training``, ``eval``/``train`` and a
    parameter that tells the device."""

    training = False

    def eval(self):
        return self

    def train(self, mode: bool = True):
        return self

    def parameters(self):
        import torch

        yield torch.zeros(0)


class Bf16Autocast(_ModuleLike):
    """A torch model run under CPU bf16 autocast: matrix products in bf16, softmax and norms in fp32."""

    def __init__(self, module):
        self.module = module
        self.config = module.config

    def __call__(self, **batch):
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = self.module(**batch)
        return SimpleNamespace(**{k: v.float() for k, v in out.items()})


class OpenVINOModule(_ModuleLike):
    """An exported OpenVINO model, called like the transformers model it came from (tensors in, an output
    object with ``logits`` or ``last_hidden_state`` out). One infer request per thread (serve's threads)."""

    def __init__(self, xml: Path, config, output: str, precision: str):
        import openvino as ov

        self.config, self.output, self.xml = config, output, Path(xml)
        core = ov.Core()
        hint = {"fp32": "f32", "bf16": "bf16"}.get(precision)
        props = {"INFERENCE_PRECISION_HINT": hint} if hint else {}
        try:
            self.compiled = core.compile_model(core.read_model(str(xml)), "CPU", props)
        except Exception as e:  # noqa: BLE001 -- a missing .bin, a truncated file, a foreign XML
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise CheckpointError(
                f"{xml}: cannot load the OpenVINO export ({first[:200]}); run vistance export {xml.parent.parent} again"
            ) from None
        self.inputs = [i.get_any_name() for i in self.compiled.inputs]
        self._local = threading.local()

    def __call__(self, **batch):
        import torch

        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        feed = {k: batch[k].cpu().numpy() for k in self.inputs}
        out = request.infer(feed)
        return SimpleNamespace(**{self.output: torch.from_numpy(out[self.compiled.output(0)].copy())})
