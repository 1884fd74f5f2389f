"""The model card is generated from recorded data (metrics.json, data.json, config); this pins its content."""

from __future__ import annotations

from conftest import ROOT

from vistance.checkpoint import CheckpointMeta
from vistance.config import load_config
from vistance.reports.modelcard import model_card

JOINT = ["not_claim", "favor", "against", "neutral"]


def _per_class(p, r, f, s):
    return {"precision": p, "recall": r, "f1": f, "support": s}


def _inputs():
    # Every value the card prints is set here, so a change of defaults elsewhere does not move the pin.
    cfg = load_config(
        ROOT / "configs/phobert-base-v2.yaml",
        [
            "data.files=[data/annotated/seed.jsonl]",
            "data.split_seed=42",
            "data.preprocess.segmenter=pyvi",
            "training.learning_rate=2e-5",
            "training.num_train_epochs=10",
            "training.per_device_train_batch_size=16",
            "training.gradient_accumulation_steps=1",
            "training.warmup_ratio=0.1",
            "training.weight_decay=0.01",
            "training.metric_for_best_model=macro_f1",
            "training.early_stopping_patience=3",
            "training.class_weighting=true",
            "training.seed=42",
            "model.max_length=256",
            "model.baseline.word_ngrams=[1,2]",
            "model.baseline.char_ngrams=[2,5]",
            "model.baseline.C=10.0",
            "model.baseline.class_weight=balanced",
        ],
    )
    meta = CheckpointMeta(
        kind="transformer", task="joint", labels=JOINT, base_model="vinai/phobert-base-v2", vistance_version="0.1.0"
    )
    metrics = {
        "dev": {"accuracy": 0.75, "macro_f1": 0.6, "f_avg": 0.55, "claim_f1": 0.9, "n": 20},
        "test": {
            "accuracy": 0.7,
            "macro_f1": 0.5812345,
            "f_avg": 0.5,
            "claim_f1": 0.88,
            "n": 20,
            "per_class": {
                "not_claim": _per_class(1.0, 0.5, 0.6666667, 4),
                "favor": _per_class(0.75, 0.75, 0.75, 8),
                "against": _per_class(0.5, 0.25, 0.3333333, 4),
                "neutral": _per_class(0.5, 1.0, 0.6666667, 4),
            },
        },
        "train_seconds": 123.4,
        "num_parameters": 135_000_000,
    }
    counts = {"not_claim": 4, "favor": 8, "against": 4, "neutral": 4}
    data = {
        "files": {"data/annotated/seed.jsonl": "fe0229b5f7648667a41898228eadc13716a228e84d1d98393385b3e919ec4179"},
        "splits": {"train": 72, "dev": 20, "test": 20},
        "label_counts": {
            "train": {"not_claim": 14, "favor": 30, "against": 14, "neutral": 14},
            "dev": counts,
            "test": counts,
        },
    }
    return cfg, meta, metrics, data


EXPECTED = """---
language: vi
library_name: transformers
pipeline_tag: text-classification
tags: [vistance, stance-detection, claim-detection, vietnamese]
base_model: vinai/phobert-base-v2
---

# vistance phobert-base-v2

A model of kind `transformer` (a pre-trained encoder fine-tuned with a classification head (PhoBERT, e5-small, ...)) for claim detection and stance in one 4-way decision (not_claim / favor / against / neutral) in Vietnamese news sentences.

## Labels

Output order of the model (`config.id2label`), with the number of examples per split:

| id | label | train | dev | test |
|---|---|---|---|---|
| 0 | not_claim | 14 | 4 | 4 |
| 1 | favor | 30 | 8 | 8 |
| 2 | against | 14 | 4 | 4 |
| 3 | neutral | 14 | 4 | 4 |

## Metrics

| split | n | accuracy | macro-F1 | F_avg (favor, against) | claim-F1 |
|---|---|---|---|---|---|
| dev | 20 | 0.7500 | 0.6000 | 0.5500 | 0.9000 |
| test | 20 | 0.7000 | 0.5812 | 0.5000 | 0.8800 |

Per class on the test split:

| label | precision | recall | F1 | support |
|---|---|---|---|---|
| not_claim | 1.0000 | 0.5000 | 0.6667 | 4 |
| favor | 0.7500 | 0.7500 | 0.7500 | 8 |
| against | 0.5000 | 0.2500 | 0.3333 | 4 |
| neutral | 0.5000 | 1.0000 | 0.6667 | 4 |

## Data

- `data/annotated/seed.jsonl` (sha256 `fe0229b5f764…`)

Split sizes: train 72, dev 20, test 20 (grouped by near-duplicate text and stratified by label, split seed 42).

## Preprocessing

Unicode NFC, word segmentation with `pyvi`, at most 256 tokens (longer input is truncated). These settings are saved in `vistance.json`; vistance replays them on raw text, so pass raw sentences to it. Plain `transformers` does not segment: give it segmented text (`Tổng_thống Nga`).

## How to use

```python
from vistance.checkpoint import load_predictor

predictor = load_predictor("path/to/checkpoint")  # raw sentences in, probabilities out
probs = predictor.predict_proba(["Tổng thống Nga nói sẵn sàng đàm phán."])
```

With plain `transformers` (input already word-segmented):

```python
from transformers import pipeline

clf = pipeline("text-classification", model="path/to/checkpoint", top_k=None)
clf("Tổng_thống Nga nói sẵn_sàng đàm_phán .", truncation=True, max_length=256)
```

## Training

- base model: `vinai/phobert-base-v2`
- learning rate 2e-05, up to 10 epochs, batch size 16 x 1 accumulation, warm-up 0.1, weight decay 0.01
- early stopping on dev macro_f1 (patience 3), best epoch restored
- class-weighted loss: yes; seed 42
- parameters: 135,000,000; training time 123.4 s
- vistance 0.1.0
"""


def test_model_card_content_is_pinned():
    assert model_card(*_inputs()) == EXPECTED


def test_baseline_card_has_no_transformers_snippet():
    cfg, meta, metrics, data = _inputs()
    cfg.model.kind = "baseline"
    meta = CheckpointMeta(kind="baseline", task="joint", labels=JOINT, vistance_version="0.1.0")
    card = model_card(cfg, meta, metrics, data)
    assert "library_name: sklearn" in card and "pipeline(" not in card and "base_model:" not in card
    assert "word n-grams (1, 2), character n-grams (2, 5), C=10.0, class weight balanced" in card
    assert "| test | 20 | 0.7000 | 0.5812 | 0.5000 | 0.8800 |" in card


def test_card_follows_the_settings_it_describes():
    cfg, meta, metrics, data = _inputs()
    meta = CheckpointMeta(kind="transformer", task="joint", labels=JOINT, max_length=128, vistance_version="0.1.0")
    card = model_card(cfg, meta, metrics, data)
    assert "at most 128 tokens" in card and "max_length=128)" in card and "max_length=256" not in card

    # The baseline with a C grid: the card must not claim the unused default C.
    cfg.model.baseline.C_grid = [0.1, 1.0]
    base = CheckpointMeta(kind="baseline", task="custom", labels=["0", "1"], vistance_version="0.1.0")
    card = model_card(cfg, base, metrics, data)
    assert "C chosen on dev from [0.1, 1.0]" in card and "C=10.0" not in card

    # Custom files with their own dev/test split, unless --cv re-split them into grouped folds.
    cfg.data.train_file, cfg.data.dev_file, cfg.data.test_file = "train.csv", "dev.csv", "test.csv"
    assert "(the files' own splits)" in model_card(cfg, base, metrics, data)
    cfg.training.cv = 3
    assert "grouped by near-duplicate text" in model_card(cfg, base, metrics, data)
