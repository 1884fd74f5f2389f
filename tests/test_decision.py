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
