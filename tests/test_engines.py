"""Inference engines (issue 20): `vistance export` (OpenVINO + NNCF int8) on the tiny PhoBERT-format model, the
default choice from recorded agreement, the refusals, and every consumer's options."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import read_json

pytest.importorskip("openvino", reason="openvino is not installed (pip install openvino nncf)")
pytest.importorskip("nncf", reason="nncf is not installed (pip install openvino nncf)")

from vistance import StanceClassifier  # noqa: E402
from vistance.checkpoint import load_predictor, read_meta, write_meta  # noqa: E402
from vistance.errors import CheckpointError, InputError  # noqa: E402
from vistance.inference import engines as eng  # noqa: E402
from vistance.inference.export import export  # noqa: E402
from vistance.inference.export import main as export_main  # noqa: E402

pytestmark = pytest.mark.engines  # an export converts and quantises a model: ~15 s, so outside the default run


@pytest.fixture(scope="module")
def exported(tiny_run, tmp_path_factory):
    """A copy of the tiny run (the shared fixture stays torch-only), exported once."""
    run = tmp_path_factory.mktemp("engines") / "tiny"
    shutil.copytree(tiny_run, run)
    found = export(run, calibration_size=40, say=lambda *_: None)
    return run, found


def _texts(run, n=60):
    lines = (run / "splits/test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines][:n]


def test_export_writes_fp32_and_int8_and_records_agreement(exported):
    run, found = exported
    ov_dir = run / "checkpoint/openvino"
    assert sorted(p.name for p in ov_dir.iterdir()) == ["model-int8.bin", "model-int8.xml", "model.bin", "model.xml"]
    meta = read_json(run / "checkpoint/vistance.json")
    rec = meta["extras"]["engines"]
    n = len((run / "splits/test.jsonl").read_text(encoding="utf-8").splitlines())
    assert rec["torch"]["fp32"]["agreement"] == 1.0 and rec["torch"]["fp32"]["n"] == n
    assert rec["openvino"]["fp32"]["agreement"] >= 0.98  # the same graph in another runtime
    assert 0.0 <= rec["openvino"]["int8"]["agreement"] <= 1.0 and rec["openvino"]["int8"]["n"] == n
    assert rec == found
    info = meta["extras"]["export"]
    assert info["calibration"]["n"] == 40 and info["agreement_on"]["n"] == n and info["openvino"]
    card = (run / "checkpoint/README.md").read_text(encoding="utf-8")
    assert card.count("## Inference engines") == 1 and "| openvino | int8 |" in card
    assert not list((run / "checkpoint").glob(".openvino*"))  # nothing half-written left beside it


def test_openvino_fp32_predicts_what_torch_does(exported):
    run, _ = exported
    texts = _texts(run)
    torch_clf = StanceClassifier.from_pretrained(run, engine="torch", precision="fp32")
    ov_clf = StanceClassifier.from_pretrained(run, engine="openvino", precision="fp32")
    assert isinstance(ov_clf.predictor.model, eng.OpenVINOModule)
    a, b = torch_clf.predict_proba(texts), ov_clf.predict_proba(texts)
    assert np.abs(a - b).max() < 1e-3
    assert ov_clf.describe()["model"]["engine"].startswith("openvino fp32")
    int8 = load_predictor(run)
    eng.apply(int8, eng.Choice("openvino", "int8", "test"))
    c = int8.predict_proba(texts)
    assert c.shape == a.shape and np.allclose(c.sum(1), 1, atol=1e-4)


def _with_records(run, tmp_path, records):
    """A copy of the exported run whose recorded agreements are ``records``."""
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    meta = read_meta(copy / "checkpoint")
    meta.extras["engines"] = records
    write_meta(copy / "checkpoint", meta)
    return load_predictor(copy)


def _rec(**agreements):
    out: dict = {"torch": {"fp32": {"agreement": 1.0, "n": 10}}}
    for key, a in agreements.items():
        engine, precision = key.split("_")
        out.setdefault(engine, {})[precision] = {"agreement": a, "n": 10}
    return out


def test_default_is_the_fastest_precision_that_keeps_995_of_labels(exported, tmp_path, monkeypatch):
    run, _ = exported
    monkeypatch.setenv("VISTANCE_CPU_BF16", "1")
    p = _with_records(run, tmp_path / "a", _rec(openvino_fp32=1.0, openvino_bf16=1.0, openvino_int8=0.996))
    assert (eng.choose(p).engine, eng.choose(p).precision) == ("openvino", "int8")
    p = _with_records(run, tmp_path / "b", _rec(openvino_fp32=1.0, openvino_bf16=0.999, openvino_int8=0.99))
    assert eng.choose(p).precision == "bf16"
    monkeypatch.setenv("VISTANCE_CPU_BF16", "0")  # a CPU without native bf16: never bf16
    assert eng.choose(p).precision == "fp32"
    assert eng.choose(p, precision="bf16").precision == "fp32"
    # explicit int8 that keeps 98 % or more loads; below, one line says why not
    assert eng.choose(p, precision="int8").precision == "int8"
    p = _with_records(run, tmp_path / "c", _rec(openvino_fp32=1.0, openvino_int8=0.97))
    with pytest.raises(CheckpointError, match=r"keeps only 97\.0% of fp32's labels .*at least 98%"):
        StanceClassifier.from_pretrained(p.path, precision="int8")


def test_refusals_are_one_line(exported, tiny_run, baseline_run, tmp_path):
    with pytest.raises(CheckpointError, match="no OpenVINO export; run: vistance export"):
        StanceClassifier.from_pretrained(tiny_run, engine="openvino")
    with pytest.raises(CheckpointError, match="has no encoder"):
        StanceClassifier.from_pretrained(baseline_run, engine="openvino")
    with pytest.raises(CheckpointError, match="has no encoder to export"):
        export(baseline_run, say=lambda *_: None)
    with pytest.raises(InputError, match="precision must be one of"):
        StanceClassifier.from_pretrained(tiny_run, precision="int4")
    # a checkpoint without an export runs as it always did
    assert str(StanceClassifier.from_pretrained(tiny_run).predictor.engine).startswith("torch fp32")
    assert str(StanceClassifier.from_pretrained(baseline_run).predictor.engine).startswith("torch fp32")
    # a damaged export: one line naming the file and the fix
    run, _ = exported
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "checkpoint/openvino/model.bin").write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match=r"cannot load the OpenVINO export .* run vistance export"):
        StanceClassifier.from_pretrained(broken, engine="openvino", precision="fp32")


def test_an_interrupted_export_leaves_the_checkpoint_as_it_was(tiny_run, tmp_path, monkeypatch):
    import nncf

    run = tmp_path / "tiny"
    shutil.copytree(tiny_run, run)
    before = (run / "checkpoint/vistance.json").read_text(encoding="utf-8")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(nncf, "quantize", boom)
    with pytest.raises(KeyboardInterrupt):
        export(run, calibration_size=10, say=lambda *_: None)
    assert not [p.name for p in (run / "checkpoint").iterdir() if "openvino" in p.name]
    assert (run / "checkpoint/vistance.json").read_text(encoding="utf-8") == before
    assert str(StanceClassifier.from_pretrained(run).predictor.engine).startswith("torch fp32")


def test_export_cli_and_consumers_take_the_options(exported, tmp_path, capsys):
    from vistance.inference.cli import main as predict_main

    run, _ = exported
    assert export_main([str(run / "checkpoint" / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
    out = tmp_path / "p.jsonl"
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in _texts(run, 5)) + "\n", encoding="utf-8"
    )
    assert (
        predict_main(
            [
                "--model",
                str(run),
                "--input",
                str(inp),
                "--output",
                str(out),
                "--engine",
                "openvino",
                "--precision",
                "fp32",
                "--quiet",
            ]
        )
        == 0
    )
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    from vistance.annotate.cli import build_parser as annotate_parser
    from vistance.batch.cli import build_parser as batch_parser
    from vistance.inference.serve import build_parser as serve_parser

    a = serve_parser().parse_args(["--model", "m", "--engine", "openvino", "--precision", "int8"])
    assert (a.engine, a.precision) == ("openvino", "int8")
    a = batch_parser().parse_args(
        ["--model", "m", "--input", "i", "--output", "o", "--model-engine", "torch", "--precision", "bf16"]
    )
    assert (a.model_engine, a.precision) == ("torch", "bf16")
    a = annotate_parser().parse_args(
        ["rank", "--model", "m", "--pool", "p", "--k", "3", "--out", "o", "--precision", "fp32"]
    )
    assert a.precision == "fp32"


def test_bench_predict_on_a_trained_checkpoint_times_every_engine(exported, tmp_path, monkeypatch, capsys):
    from vistance.bench.predict import main as bench_main

    run, _ = exported
    monkeypatch.setenv("VISTANCE_CPU_BF16", "0")  # the rows this CPU runs; bf16 rows need native bf16
    out, png = tmp_path / "bench.json", tmp_path / "bench.png"
    assert (
        bench_main(
            [
                "--model",
                str(run),
                "-n",
                "12",
                "--rounds",
                "1",
                "--threads",
                "1",
                "--output",
                str(out),
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    r = read_json(out)
    got = {(x["engine"], x["precision"]): x for x in r["rows"]}
    assert set(got) == {("torch", "fp32"), ("torch", "int8"), ("openvino", "fp32"), ("openvino", "int8")}
    assert got[("torch", "fp32")]["vs_torch_fp32"] == 1.0 and got[("torch", "fp32")]["label_agreement"] == 1.0
    assert got[("openvino", "fp32")]["label_agreement"] >= 0.9
    for row in r["rows"]:
        assert row["sentences_per_s"] > 0 and 0 < row["share_of_peak"] < 5 and row["gflops"] > 0
    assert set(r["peaks_gflops"]) == {"fp32", "int8"} and r["sentences"] == 12
    text = capsys.readouterr().out
    assert "| openvino | int8 |" in text and "% of peak" in text and "default engine for this checkpoint" in text
    assert png.stat().st_size > 5000


def test_training_exports_when_asked_and_trains_in_bf16(train_script, small_corpus, tmp_path):
    """training.export=openvino exports at the end of training; training.bf16=true trains (CPU autocast)."""
    from conftest import ROOT, set_args, tiny_overrides

    run = tmp_path / "run"
    argv = [
        "--config",
        str(ROOT / "configs/tiny.yaml"),
        "--run-dir",
        str(run),
        *set_args(
            tiny_overrides(small_corpus)
            + ["training.num_train_epochs=2", "training.export=openvino", "training.bf16=true"]
        ),
    ]
    train_script.main(argv)
    meta = read_json(run / "checkpoint/vistance.json")
    assert (run / "checkpoint/openvino/model-int8.xml").is_file()
    assert meta["extras"]["engines"]["openvino"]["fp32"]["n"] == len(
        (run / "splits/test.jsonl").read_text(encoding="utf-8").splitlines()
    )
    assert str(eng.choose(load_predictor(run)).engine) == "openvino"
