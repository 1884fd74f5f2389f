"""The shared preprocessing: NFC + word segmentation, replayable from saved settings."""

import unicodedata

import pytest

from vistance.text import (
    PreprocessConfig,
    Preprocessor,
    desegment,
    normalize,
    preprocess,
)

SENT = "Tổng thống Nga Vladimir Putin ngày 16/11 tuyên bố đàm phán vẫn tiếp tục."


def test_pyvi_joins_multi_syllable_words():
    out = preprocess(SENT)
    assert "Tổng_thống" in out.split()
    assert "tuyên_bố" in out.split()
    assert "đàm_phán" in out.split()


def test_underthesea_selectable():
    out = preprocess(SENT, {"segmenter": "underthesea"})
    assert "Tổng_thống" in out.split()


def test_segmentation_round_trip_keeps_the_words():
    # Undoing the segmentation gives back the same syllables (punctuation may be spaced out).
    for seg in ("pyvi", "underthesea"):
        out = preprocess(SENT, {"segmenter": seg})
        assert desegment(out).replace(" ", "") == SENT.replace(" ", "")


def test_nfd_input_becomes_nfc():
    nfd = unicodedata.normalize("NFD", SENT)
    assert nfd != SENT
    out = preprocess(nfd)
    assert unicodedata.is_normalized("NFC", out)
    assert out == preprocess(SENT)


def test_none_segmenter_only_normalises():
    assert preprocess("  Tổng   thống\u00a0Nga ", {"segmenter": "none"}) == "Tổng thống Nga"


def test_lowercase_option_and_list_input():
    out = Preprocessor(PreprocessConfig(lowercase=True))([SENT, ""])
    assert out[0] == out[0].lower() and out[1] == ""


def test_config_round_trip_and_validation():
    cfg = PreprocessConfig(segmenter="underthesea", lowercase=True)
    assert PreprocessConfig.from_dict(cfg.to_dict()) == cfg
    assert PreprocessConfig.from_dict({"segmenter": "pyvi", "unknown_future_key": 1}).segmenter == "pyvi"
    with pytest.raises(ValueError, match="data.preprocess.segmenter must be one of"):
        PreprocessConfig(segmenter="jieba")


def test_normalize_collapses_whitespace():
    assert normalize("a\u00a0 b\n c") == "a b c"
