"""The prediction benchmark: its sentences, its modes on the tiny model, and (slow) the PhoBERT-base-sized run."""

import json
from pathlib import Path

import pytest

from vistance.bench import predict as bench_predict


def test_corpus_sentences_come_from_the_repository_only():
    texts = bench_predict.corpus_sentences(".")
    assert len(texts) >= 100 and len(set(texts)) == len(texts)
    lines = Path("data/annotated/seed.jsonl").read_text(encoding="utf-8").splitlines()
    seeds = [json.loads(line)["text"] for line in lines if line.strip()]
    assert set(seeds) <= set(texts)
    assert bench_predict.corpus_sentences("/nonexistent") == []


def test_sample_is_seeded_and_cycles_a_small_corpus():
    pool = [f"s{i}" for i in range(5)]
    a = bench_predict.sample(pool, 12, seed=1)
    assert a == bench_predict.sample(pool, 12, seed=1) and len(a) == 12
    assert sorted(a[:5]) == pool and a[5:10] == a[:5]


def test_modes_agree_on_the_tiny_model(tiny_run):
    """Same weights, three code paths: per-sentence pipeline, vistance batches, int8 (close, not equal)."""
    sentences = bench_predict.sample(bench_predict.corpus_sentences("."), 24, seed=0)
    r = bench_predict.run(sentences, tiny_run / "checkpoint", batch_size=8)
    assert r["sentences"] == 24
    assert r["pipeline_loop"]["label_agreement_with_vistance"] == 1.0
    assert r["vistance_int8"]["max_abs_prob_diff"] < 0.05
    assert r["vistance_bf16"]["max_abs_prob_diff"] < 0.05
    for mode in ("pipeline_loop", "vistance", "vistance_int8", "vistance_bf16"):
        assert r[mode]["sentences_per_second"] > 0
    text = bench_predict.report(r)
    assert "sentences/s" in text and "int8 / fp32" in text and "bf16 / fp32" in text


@pytest.mark.slow
def test_phobert_base_sized_benchmark(tmp_path, capsys):
    """The real benchmark on a few sentences: builds the 135M-parameter random model (~0.5 GB on disk)."""
    out = tmp_path / "bench.json"
    assert bench_predict.main(["-n", "16", "--batch-size", "8", "--reduced", "int8", "--output", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["sentences"] == 16 and r["pipeline_loop"]["label_agreement_with_vistance"] == 1.0
    assert 10 < r["tokens_per_sentence"]["mean"] < 60
    assert "vistance / loop" in capsys.readouterr().out
