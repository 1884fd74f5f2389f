"""The shipped decision (vistance.decision): a temperature and a claim threshold fitted on dev, replayed everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from vistance.decision import Decision, apply_temperature, fit_temperature
from vistance.tasks import JOINT


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_temperature_recovers_an_overconfident_model():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2000, 4)) * 2
    gold = np.array([rng.choice(4, p=p) for p in _softmax(logits)])  # labels drawn from the true probabilities
    overconfident = _softmax(logits * 3)  # the same ranking, three times too sure
    t = fit_temperature(overconfident, gold)
    assert t == pytest.approx(3.0, rel=0.15)
    assert apply_temperature(overconfident, t) == pytest.approx(_softmax(logits), abs=0.05)
    # T = 1 changes nothing; any T keeps every row's argmax
    assert apply_temperature(overconfident, 1.0) is not None
    assert (apply_temperature(overconfident, 0.3).argmax(1) == overconfident.argmax(1)).all()


def test_threshold_is_chosen_where_the_joint_macro_f1_of_the_decision_is_highest():
    # A class-balanced model: not_claim sentences get p(not_claim) = 0.4 and their mass spread over the three
    # stances, so 1 - p(not_claim) = 0.6 calls every one of them a claim at the old fixed 0.5.
    n = 60
    not_claim = np.tile([0.40, 0.20, 0.20, 0.20], (n, 1))
    favor = np.tile([0.20, 0.60, 0.10, 0.10], (n, 1))
    neutral = np.tile([0.25, 0.10, 0.10, 0.55], (n, 1))
    probs = np.vstack([not_claim, favor, neutral])
    gold = ["not_claim"] * n + ["favor"] * n + ["neutral"] * n
    d = Decision.fit(probs, gold, JOINT, calibrate=False)
    assert d.fitted_on["macro_f1_at_0.5"] < 0.5  # not_claim is never predicted
    assert 0.6 < d.claim_threshold <= 0.75  # above not_claim's 0.60, at or below neutral's 0.75
    assert d.fitted_on["macro_f1"] == pytest.approx(0.75)  # perfect on three labels; "against" has no example
    assert d.labels(probs, JOINT) == gold


def test_small_dev_keeps_the_default_threshold_and_round_trips():
    probs = np.tile([0.4, 0.2, 0.2, 0.2], (10, 1))
    d = Decision.fit(probs, ["not_claim"] * 10, JOINT, calibrate=False)
    assert d.claim_threshold == 0.5 and d.temperature == 1.0
    assert Decision.from_dict(d.to_dict()) == d
    assert Decision.from_dict(None) == Decision() == Decision.from_dict({})
    with pytest.raises(ValueError, match="claim_threshold"):
        Decision(claim_threshold=1.5)
    with pytest.raises(ValueError, match="temperature"):
        Decision(temperature=0)


def test_layerwise_learning_rates_decay_from_the_head_down():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from vistance.models.transformer import layerwise_param_groups

    model = BertForSequenceClassification(
        BertConfig(
            vocab_size=50, hidden_size=8, num_hidden_layers=3, num_attention_heads=2, intermediate_size=16, num_labels=4
        )
    )
    groups = layerwise_param_groups(model, 1e-3, 0.5, 0.01)
    lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
    assert lr_of[id(model.classifier.weight)] == pytest.approx(1e-3)
    assert lr_of[id(model.bert.encoder.layer[2].attention.self.query.weight)] == pytest.approx(1e-3 * 0.5)
    assert lr_of[id(model.bert.encoder.layer[0].attention.self.query.weight)] == pytest.approx(1e-3 * 0.5**3)
    assert lr_of[id(model.bert.embeddings.word_embeddings.weight)] == pytest.approx(1e-3 * 0.5**4)
    wd_of = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    assert wd_of[id(model.classifier.bias)] == 0.0 and wd_of[id(model.classifier.weight)] == 0.01
    assert sum(len(g["params"]) for g in groups) == len([p for p in model.parameters() if p.requires_grad])
    torch.optim.AdamW(groups)  # a valid optimizer


def test_headings_and_captions_are_never_claims_wherever_the_kind_is_known(baseline_run):
    from vistance import StanceClassifier

    probs = np.tile([0.1, 0.7, 0.1, 0.1], (3, 1))  # a confident favor claim, three times
    items = [{"kind": "heading"}, {"kind": "body"}, {"part": "title"}]
    assert Decision().labels(probs, JOINT, items) == ["not_claim", "favor", "not_claim"]
    assert Decision().labels(probs, JOINT) == ["favor"] * 3  # bare sentences: the model decides

    clf = StanceClassifier.from_pretrained(baseline_run)
    claim = "Ông Ushakov nói Nga sẵn sàng đàm phán với Ukraine"
    heading, body = clf.predict_sentences([{"text": claim, "kind": "heading"}, {"text": claim, "kind": "body"}])
    assert heading["claim"] == "not_claim" and heading["stance"] is None and heading["speaker"] is None
    assert heading["claim_score"] == body["claim_score"]  # the model's score is kept
