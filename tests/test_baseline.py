"""The TF-IDF + logistic-regression baseline: behaviour on a tiny synthetic set, safe persistence,
and (slow) the UIT-VSFC figures it must reach."""

from __future__ import annotations

import csv
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer

from vistance.errors import CheckpointError
from vistance.models.baseline import (
    ALLOWED_TYPES,
    META_FILE,
    MODEL_FILE,
    BaselineClassifier,
    BaselineConfig,
    UntrustedModelError,
)

# Word-segmented, as the caller passes them (the Preprocessor's output).
FAVOR = [
    "Việt_Nam ủng_hộ tiến_trình hoà_bình giữa Nga và Ukraine .",
    "Thủ_tướng hoan_nghênh lệnh ngừng_bắn và kêu_gọi đàm_phán .",
    "Các bên nên sớm ký thoả_thuận hoà_bình để chấm_dứt xung_đột .",
    "Chúng_tôi hoàn_toàn ủng_hộ đàm_phán hoà_bình .",
    "Hội_nghị thượng_đỉnh là bước tiến tích_cực cho hoà_bình .",
    "Bộ_trưởng hoan_nghênh thoả_thuận ngừng_bắn mới .",
]
AGAINST = [
    "Kế_hoạch hoà_bình này là vô_nghĩa và sẽ thất_bại .",
    "Ông phản_đối mọi cuộc đàm_phán với phía Nga .",
    "Lệnh ngừng_bắn chỉ là cái bẫy , không_thể tin được .",
    "Chúng_tôi bác_bỏ thoả_thuận vì nó phản_bội Ukraine .",
    "Đàm_phán lúc này là sai_lầm nghiêm_trọng .",
    "Tổng_thống phản_đối kế_hoạch ngừng_bắn của phương_Tây .",
]
NEUTRAL = [
    "Cuộc họp diễn ra tại Geneva vào thứ_Hai .",
    "Phái_đoàn Nga đến Istanbul chiều qua .",
    "Hai bên sẽ gặp nhau vào tuần tới tại Ả_Rập_Xê_Út .",
    "Ngoại_trưởng có chuyến thăm Bắc_Kinh trong ba ngày .",
    "Báo_cáo được công_bố vào sáng nay .",
    "Cuộc điện_đàm kéo_dài hơn hai giờ .",
]
TEXTS = FAVOR + AGAINST + NEUTRAL
LABELS = ["favor"] * len(FAVOR) + ["against"] * len(AGAINST) + ["neutral"] * len(NEUTRAL)
PROBES = [
    "Chính_phủ ủng_hộ đàm_phán hoà_bình .",
    "Họ phản_đối lệnh ngừng_bắn .",
    "Phái_đoàn đến Geneva vào thứ_Hai .",
]

# Small n-gram ranges keep the fast tests fast; behaviour is the same as the defaults.
FAST = BaselineConfig(word_ngrams=[1, 2], char_ngrams=[2, 4], C=10.0)


@pytest.fixture(scope="module")
def model() -> BaselineClassifier:
    return BaselineClassifier(FAST).fit(TEXTS, LABELS)


def test_fit_predict_proba_shape_and_order(model):
    assert model.labels == ["against", "favor", "neutral"]
    proba = model.predict_proba(PROBES)
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (proba >= 0).all()
    # Each probe shares its telling words with one class only.
    assert model.predict(PROBES) == ["favor", "against", "neutral"]
    assert model.predict(TEXTS) == LABELS
    assert model.chosen_C == 10.0
    assert model.num_parameters() == 3 * model.num_features() + 3
    assert model.size_bytes() > 1000


def test_empty_input_and_unseen_words(model):
    empty = model.predict_proba([])
    assert empty.shape == (0, 3) and empty.dtype == np.float64
    assert model.predict([]) == []
    # Nothing of these was seen in training (no shared word, no shared character n-gram of the
    # word vectoriser): the row is still a distribution.
    unseen = model.predict_proba(["xyzzy qwrtp", "", "   ", "😀"])
    assert unseen.shape == (4, 3)
    np.testing.assert_allclose(unseen.sum(axis=1), 1.0, atol=1e-9)
    # An all-unknown text gets the intercept-only distribution, the same for every such text.
    np.testing.assert_allclose(unseen[1], unseen[2])


def test_bad_input_is_refused_clearly(model):
    with pytest.raises(TypeError, match="not one string"):
        model.predict_proba("một câu")
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType"):
        model.predict_proba(["một câu", None])
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        BaselineClassifier(FAST).fit(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="at least two classes"):
        BaselineClassifier(FAST).fit(["a b", "c d"], ["x", "x"])
    with pytest.raises(RuntimeError, match="not fitted"):
        BaselineClassifier(FAST).predict(["a"])
    with pytest.raises(ValueError, match="char_ngrams"):
        BaselineClassifier(BaselineConfig(char_ngrams=[5, 2]))


def test_save_load_identical_probabilities_without_pickle(model, tmp_path):
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MODEL_FILE, META_FILE])
    # model.skops is JSON + .npy members; every array loads with pickle disabled.
    with zipfile.ZipFile(tmp_path / MODEL_FILE) as z:
        names = z.namelist()
        assert "schema.json" in names
        assert all(n == "schema.json" or n.endswith(".npy") for n in names)
        # The vocabulary is stored as arrays, not one file per n-gram (skops' default for a dict).
        assert len(names) < 20 < model.num_features()
        for n in names:
            if n.endswith(".npy"):
                with z.open(n) as f:
                    np.load(f, allow_pickle=False)
    assert set(sio.get_untrusted_types(file=tmp_path / MODEL_FILE)) <= ALLOWED_TYPES

    meta = json.loads((tmp_path / META_FILE).read_text(encoding="utf-8"))
    assert meta["labels"] == model.labels and meta["chosen_C"] == 10.0
    assert meta["config"]["char_ngrams"] == [2, 4]

    assert model.size_bytes() == pytest.approx((tmp_path / MODEL_FILE).stat().st_size, rel=0.05)

    loaded = BaselineClassifier.load(tmp_path)
    assert loaded.labels == model.labels
    for name in ("word", "char"):
        saved_vec = model.pipeline.named_steps["features"].get_params()[name]
        loaded_vec = loaded.pipeline.named_steps["features"].get_params()[name]
        assert loaded_vec.vocabulary_ == saved_vec.vocabulary_
    assert "ủng_hộ" in loaded.pipeline.named_steps["features"].get_params()["word"].vocabulary_
    assert loaded.config == FAST
    probes = PROBES + ["xyzzy", ""]
    np.testing.assert_array_equal(loaded.predict_proba(probes), model.predict_proba(probes))


def test_tampered_model_is_refused(model, tmp_path):
    model.save(tmp_path)
    # A file carrying a callable (what an attacker would smuggle in) in place of the pipeline.
    sio.dump(FunctionTransformer(func=os.system), tmp_path / MODEL_FILE)
    with pytest.raises(UntrustedModelError, match=r"refusing to load untrusted types .*system"):
        BaselineClassifier.load(tmp_path)
    # Trusted types but the wrong object.
    sio.dump({"clf": [1, 2, 3]}, tmp_path / MODEL_FILE)
    with pytest.raises(UntrustedModelError, match="not a vistance baseline"):
        BaselineClassifier.load(tmp_path)
    # Not a skops file at all.
    (tmp_path / MODEL_FILE).write_bytes(b"\x80\x04garbage")
    with pytest.raises(UntrustedModelError, match="not a readable skops file"):
        BaselineClassifier.load(tmp_path)
    (tmp_path / MODEL_FILE).unlink()
    with pytest.raises(CheckpointError, match="not a saved baseline"):
        BaselineClassifier.load(tmp_path)


def test_labels_mismatch_between_files_is_refused(model, tmp_path):
    model.save(tmp_path)
    meta_path = tmp_path / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["labels"] = ["x", "y"]  # the classes the model outputs are missing
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(UntrustedModelError, match="do not cover"):
        BaselineClassifier.load(tmp_path)


def test_dev_grid_picks_C_and_records_it():
    cfg = BaselineConfig(word_ngrams=[1, 1], char_ngrams=[2, 3], C=1.0, C_grid=[0.01, 10.0])
    dev = PROBES
    dev_labels = ["favor", "against", "neutral"]
    clf = BaselineClassifier(cfg).fit(TEXTS, LABELS, dev_texts=dev, dev_labels=dev_labels)
    assert set(clf.dev_scores) == {"0.01", "10.0"}
    assert clf.chosen_C in (0.01, 10.0)
    assert clf.dev_scores[str(clf.chosen_C)] == max(clf.dev_scores.values())
    # Without a grid, dev data does not change C.
    plain = BaselineClassifier(BaselineConfig(C=3.0)).fit(TEXTS, LABELS, dev_texts=dev, dev_labels=dev_labels)
    assert plain.chosen_C == 3.0 and plain.dev_scores == {}


UIT_VSFC = Path("/work/shared/benchmarks/uit-vsfc")


def _read_vsfc(split: str) -> tuple[list[str], list[str]]:
    with open(UIT_VSFC / f"{split}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["sentence"] for r in rows], [r["sentiment"] for r in rows]


@pytest.mark.slow
@pytest.mark.skipif(not (UIT_VSFC / "train.csv").is_file(), reason="UIT-VSFC not in /work/shared")
def test_uit_vsfc_sentiment_reaches_reference(tmp_path):
    from vistance.metrics import classification_metrics
    from vistance.text import Preprocessor

    pre = Preprocessor()  # the project default (pyvi segmentation), as training uses it
    train_x, train_y = _read_vsfc("train")
    test_x, test_y = _read_vsfc("test")
    start = time.perf_counter()
    clf = BaselineClassifier().fit(pre(train_x), train_y)
    fit_s = time.perf_counter() - start
    clf.save(tmp_path)
    clf = BaselineClassifier.load(tmp_path)
    m = classification_metrics(test_y, clf.predict(pre(test_x)), clf.labels)
    print(f"UIT-VSFC sentiment test: acc {m['accuracy']:.4f} macro-F1 {m['macro_f1']:.4f} fit {fit_s:.1f}s")
    assert m["accuracy"] >= 0.89
    assert m["macro_f1"] >= 0.74
