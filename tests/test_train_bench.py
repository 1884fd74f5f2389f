"""The training benchmark's batches: what "dynamic" and "padded to 256" mean there."""

from __future__ import annotations

import numpy as np
import pytest

from vistance.bench import train as bench


def test_length_grouped_batches_cover_the_epoch_and_pad_little():
    rng = np.random.default_rng(0)
    lengths = list(rng.integers(5, 120, size=200))
    batches = bench.length_grouped_batches(lengths, batch_size=8, seed=0)
    assert sorted(i for b in batches for i in b) == list(range(200))
    grouped = np.mean([max(lengths[i] for i in b) for b in batches])
    shuffled = np.mean([max(lengths[i] for i in b) for b in np.array_split(rng.permutation(200), 25)])
    assert grouped < shuffled  # grouping by length is what makes dynamic padding pay off


def test_make_batch_pads_with_phobert_ids():
    rng = np.random.default_rng(0)
    dynamic = bench.make_batch([3, 7], None, rng)
    fixed = bench.make_batch([3, 7], 256, rng)
    assert dynamic.shape == (2, 7) and fixed.shape == (2, 256)
    assert list(dynamic[0, :3][[0, 2]]) == [0, 2] and (dynamic[0, 3:] == 1).all()
    assert (fixed[1, 7:] == 1).all() and fixed[1, 6] == 2


def test_corpus_lengths_are_truncated(tmp_path):
    import json

    rows = [{"text": "Tổng thống Nga nói về hòa bình."}, {"text": " ".join(["Ukraine"] * 400)}]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    lengths = bench.corpus_lengths([str(path)], max_length=256)
    assert lengths[1] == 256 and 4 <= lengths[0] < 64


def test_predict_subcommand_is_dispatched(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["predict", "--help"])
    assert e.value.code == 0 and "--batch-size" in capsys.readouterr().out
