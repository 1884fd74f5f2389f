"""``python -m vistance.batch``: shards in, Parquet shards out, equal to ``StanceClassifier.predict``, resumable.

The default tests run the local engine on the baseline and tiny runs of ``conftest.py``. The slow
test starts a local Ray (2 CPUs), checks the actor pool gives the same rows, interrupts the command
line after its first shard and shows the rerun finishes with every row exactly once.
"""

from __future__ import annotations

import csv
import fcntl
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vistance import batch
from vistance.batch import BatchError, run_batch
from vistance.data import file_sha256
from vistance.errors import InputError
from vistance.inference import StanceClassifier

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "annotated" / "seed.jsonl"
RAW = ROOT / "data" / "raw"


def seed_rows() -> list[dict]:
    return [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_sentence_shards(folder: Path, rows: list[dict] | None = None) -> list[tuple[str, str]]:
    """Seed sentences as three shards, one per format: JSONL (ids, one empty row), CSV (no id column:
    ids come from line numbers), Parquet. Returns the expected (id, text) pairs in output order."""
    rows = rows if rows is not None else seed_rows()
    folder.mkdir(parents=True, exist_ok=True)
    a, b, c = rows[:40], rows[40:80], rows[80:]
    with open(folder / "part-0.jsonl", "w", encoding="utf-8") as f:
        f.writelines(
            json.dumps(
                {"id": r["id"], "text": r["text"], "date": r.get("date"), "article": r.get("article")},
                ensure_ascii=False,
            )
            + "\n"
            for r in a[:20] + [{"id": "empty", "text": "  "}] + a[20:]
        )
    with open(folder / "part-1.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text"])
        writer.writerows([r["text"]] for r in b)
    pq.write_table(pa.table({"id": [r["id"] for r in c], "text": [r["text"] for r in c]}), folder / "part-2.parquet")
    return (
        [(r["id"], r["text"]) for r in a]
        + [(f"part-1-{n}", r["text"]) for n, r in enumerate(b, 2)]
        + [(r["id"], r["text"]) for r in c]
    )


def read_output(out: Path) -> list[dict]:
    """Every output row, shard by shard in name order, rows in file order."""
    rows = []
    for f in sorted(out.rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def assert_rows_match(rows: list[dict], texts: list[str], clf: StanceClassifier, tol: float) -> None:
    """Labels exactly, scores within ``tol`` (transformers pad batches differently), row by row."""
    expected = clf.predict(texts)
    assert [r["text"] for r in rows] == texts
    for row, exp in zip(rows, expected, strict=True):
        assert (row["claim"], row["stance"]) == (exp["claim"], exp["stance"]), row["id"]
        assert row["claim_score"] == pytest.approx(exp["claim_score"], abs=tol)
        for label, score in exp["stance_scores"].items():
            assert row[f"stance_{label}"] == pytest.approx(score, abs=tol)


def cli(*argv: str, capsys) -> tuple[int, str]:
    code = batch.main([*argv, "--quiet"])
    return code, capsys.readouterr().err


# --------------------------------------------------------------------------- equality with predict


@pytest.mark.extended
def test_local_engine_equals_predict_on_sentence_shards(baseline_run, tmp_path, capsys):
    expected = write_sentence_shards(tmp_path / "in")
    ray_was_loaded = "ray" in sys.modules
    code, err = cli(
        "--model",
        str(baseline_run),
        "--input",
        str(tmp_path / "in" / "part-*"),
        "--output",
        str(tmp_path / "out"),
        capsys=capsys,
    )
    assert code == 0, err
    if not ray_was_loaded:
        assert "ray" not in sys.modules, "the local engine must not import Ray"

    rows = read_output(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").glob("*.parquet")) == [
        "part-0.parquet",
        "part-1.parquet",
        "part-2.parquet",
    ]
    assert [(r["id"], r["text"]) for r in rows] == expected
    assert_rows_match(rows, [t for _, t in expected], StanceClassifier.from_pretrained(baseline_run), tol=1e-9)
    assert rows[0]["date"] == seed_rows()[0]["date"] and rows[0]["position"] is None
    assert list(rows[0]) == [
        "id",
        "text",
        "article",
        "date",
        "position",
        "kind",
        "start",
        "end",
        "claim",
        "claim_score",
        "stance",
        "stance_favor",
        "stance_against",
        "stance_neutral",
        "speaker",
        "speaker_start",
        "speaker_end",
        "speaker_confidence",
    ]

    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["engine"] == "local"
    assert manifest["counts"]["sentences"] == len(expected) and manifest["counts"]["skipped"] == 1
    entry = manifest["shards"]["part-0.parquet"]
    assert entry["sha256"] == file_sha256(tmp_path / "in" / "part-0.jsonl")
    assert manifest["checkpoint"]["sha256"] == batch.checkpoint_digest(Path(manifest["checkpoint"]["path"]))
    assert err.strip().startswith(f"{tmp_path / 'out'}: 3 shard(s), {len(expected)} sentence(s)")


def article_shard(path: Path) -> list[dict]:
    """The five raw articles as JSONL rows; the first gets a title and a date field."""
    rows = [{"id": f.stem[:3], "text": f.read_text(encoding="utf-8")} for f in sorted(RAW.glob("*.txt"))]
    rows[0] |= {"title": "Nga nói sẵn sàng đàm phán với Mỹ", "date": "2025-11-17"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


@pytest.mark.extended
def test_local_engine_equals_analyze_on_articles(tiny_run, tmp_path):
    articles = article_shard(tmp_path / "in" / "news.jsonl")
    run_batch(tiny_run, str(tmp_path / "in" / "news.jsonl"), tmp_path / "out", articles=True, progress=False)
    rows = read_output(tmp_path / "out")

    clf = StanceClassifier.from_pretrained(tiny_run)
    title, rows = rows[0], rows[1:]
    assert (title["id"], title["kind"], title["article"], title["position"], title["start"]) == (
        "000-title",
        "title",
        "000",
        None,
        None,
    )
    # The title row is scored like any sentence, but a title is never a claim (guideline R19).
    (bare,) = clf.predict([articles[0]["title"]])
    assert title["claim_score"] == pytest.approx(bare["claim_score"], abs=1e-5)
    assert (title["claim"], title["stance"]) == ("not_claim", None)
    expected = []
    for a in articles:
        analysis = clf.analyze(a["text"], article_id=a["id"])
        expected += [s | {"article": a["id"], "date": a.get("date", analysis["date"])} for s in analysis["sentences"]]
    keys = ("id", "article", "date", "position", "kind", "start", "end", "text", "claim", "stance", "speaker")
    assert [{k: r[k] for k in keys} for r in rows] == [{k: s[k] for k in keys} for s in expected]
    assert any(r["speaker"] for r in rows)  # speakers from the article around each sentence, as analyze gives
    body = [r for r in rows if r["kind"] == "body"]
    assert_rows_match(body, [r["text"] for r in body], clf, tol=1e-5)


def test_speaker_columns_appear_when_results_carry_them(baseline_run, tmp_path, monkeypatch):
    def fixed_speaker(self, results, sentences):
        for r in results:
            r |= {"speaker": "Nga", "speaker_span": (0, 3)}

    # In this process: the local engine's worker process would not see the patch.
    monkeypatch.setattr(StanceClassifier, "attribute", fixed_speaker)
    shard = tmp_path / "s.jsonl"
    shard.write_text('{"id": "a", "text": "Nga sẵn sàng đàm phán."}\n', encoding="utf-8")
    scorer = batch.ShardScorer(str(baseline_run), articles=False, text_field="text", batch_size=8)
    events = list(scorer.score(str(shard), str(tmp_path / "out" / "s.parquet")))
    assert json.loads(events[-1]["record"])["sentences"] == 1
    row = read_output(tmp_path / "out")[0]
    assert (row["speaker"], row["speaker_start"], row["speaker_end"]) == ("Nga", 0, 3)
    assert not list((tmp_path / "out").glob(".*"))  # no temporary or attempts file left


# --------------------------------------------------------------------------- resume, dying workers


@pytest.mark.extended
def test_a_dying_worker_is_retried_then_its_shard_failed_and_a_rerun_redoes_only_that(
    baseline_run, tmp_path, monkeypatch, capsys
):
    """VISTANCE_FAULT_SHARD kills every worker that reaches part-1.csv (os._exit(137), as an OOM kill does)."""
    expected = write_sentence_shards(tmp_path / "in")
    inputs, out = str(tmp_path / "in"), tmp_path / "out"
    monkeypatch.setenv(batch.FAULT_ENV, "part-1.csv")
    code, err = cli("--model", str(baseline_run), "--input", inputs, "--output", str(out), capsys=capsys)
    assert code == batch.EXIT_PARTIAL == 3, err
    assert err.count("the worker died (exit status 137); retrying with a new worker") == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        f"partial: 1 shard(s) failed ({tmp_path / 'in' / 'part-1.csv'}: the worker scoring it "
        "died 3 time(s) (exit status 137)"
    ), last
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "partial" and sorted(manifest["shards"]) == ["part-0.parquet", "part-2.parquet"]
    failed = manifest["failed"]["part-1.parquet"]
    assert (failed["rows"], failed["attempts"]) == (40, 3)
    assert failed["size"] == (tmp_path / "in" / "part-1.csv").stat().st_size
    assert manifest["timings"]["shards_failed"] == 1 and manifest["counts"]["sentences"] == len(expected) - 40
    # no partial output, no temporary file, no attempts file
    assert sorted(p.name for p in out.iterdir()) == [batch.LOCK, "_manifest.json", "part-0.parquet", "part-2.parquet"]

    # A shard written but not yet recorded (a kill between the rename and the manifest update) is redone.
    (out / "part-1.parquet").write_bytes((out / "part-0.parquet").read_bytes())
    monkeypatch.delenv(batch.FAULT_ENV)
    manifest = run_batch(baseline_run, inputs, out, progress=False)
    assert manifest["status"] == "complete" and manifest["failed"] == {}
    assert (manifest["timings"]["shards"], manifest["timings"]["shards_already_done"]) == (1, 2)
    assert [(r["id"], r["text"]) for r in read_output(out)] == expected  # every row once, in order
    assert run_batch(baseline_run, inputs, out, progress=False)["timings"]["shards"] == 0


def _die_at_start(conn, scorer_kwargs):
    os._exit(137)


def test_a_worker_that_dies_before_counting_itself_is_still_bounded(baseline_run, tmp_path, monkeypatch):
    """Deaths are also counted by the driver: a worker that dies while loading the model (before it
    records an attempt) fails each shard after max_attempts instead of looping."""
    write_sentence_shards(tmp_path / "in")
    monkeypatch.setattr(batch.local_engine, "_local_worker", _die_at_start)
    manifest = run_batch(baseline_run, str(tmp_path / "in"), tmp_path / "out", progress=False, max_attempts=2)
    assert manifest["status"] == "partial" and manifest["shards"] == {}
    assert {k: (v["attempts"], v["error"]) for k, v in manifest["failed"].items()} == {
        f"part-{i}.parquet": (2, "the worker scoring it died 2 time(s) (exit status 137)") for i in range(3)
    }


def test_changed_checkpoint_is_refused_unless_overwrite(baseline_run, tmp_path):
    write_sentence_shards(tmp_path / "in")
    other = tmp_path / "other-checkpoint"
    shutil.copytree(baseline_run / "checkpoint", other)
    run_batch(baseline_run, str(tmp_path / "in"), tmp_path / "out", progress=False)

    (other / "README.md").write_text("edited model card\n", encoding="utf-8")
    with pytest.raises(BatchError, match="another checkpoint .*--overwrite"):
        run_batch(other, str(tmp_path / "in"), tmp_path / "out", progress=False)
    with pytest.raises(BatchError, match=r"another options \(--articles"):
        run_batch(baseline_run, str(tmp_path / "in"), tmp_path / "out", articles=True, progress=False)
    manifest = run_batch(other, str(tmp_path / "in"), tmp_path / "out", overwrite=True, progress=False)
    assert manifest["timings"]["shards"] == 3 and manifest["checkpoint"]["path"] == str(other.absolute())


def test_changed_input_is_refused_unless_overwrite(baseline_run, tmp_path):
    write_sentence_shards(tmp_path / "in")
    shard, out = tmp_path / "in" / "part-0.jsonl", tmp_path / "out"
    run_batch(baseline_run, str(tmp_path / "in"), out, progress=False)

    os.utime(shard, (1, 1))  # touched, or copied without its time: same bytes, still done
    assert run_batch(baseline_run, str(tmp_path / "in"), out, progress=False)["timings"]["shards"] == 0

    with open(shard, "a", encoding="utf-8") as f:
        f.write('{"id": "new", "text": "Kiev bác bỏ đề xuất ngừng bắn."}\n')
    with pytest.raises(BatchError, match=f"{shard} changed since .*part-0.parquet was written"):
        run_batch(baseline_run, str(tmp_path / "in"), out, progress=False)
    manifest = run_batch(baseline_run, str(tmp_path / "in"), out, overwrite=True, progress=False)
    assert manifest["timings"]["shards"] == 1 and manifest["timings"]["shards_already_done"] == 2
    assert read_output(out)[40]["id"] == "new"


# --------------------------------------------------------------------------- one-line errors


def bad_inputs(root: Path, baseline_run: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments, what the error line must contain)."""
    good = root / "good"
    write_sentence_shards(good)
    (root / "json").mkdir()
    (root / "json" / "a.jsonl").write_text('{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', encoding="utf-8")
    (root / "latin1").mkdir()
    (root / "latin1" / "a.csv").write_bytes("text\nNga s\u1eb5n s\u00e0ng\n".encode("utf-16"))
    (root / "parquet").mkdir()
    (root / "parquet" / "a.parquet").write_bytes(b"PAR1 not really")
    (root / "field").mkdir()
    (root / "field" / "a.jsonl").write_text('{"id": 1, "content": "Nga sẵn sàng."}\n', encoding="utf-8")
    (root / "a-file").write_text("", encoding="utf-8")
    (root / "stranger").mkdir()
    (root / "stranger" / "notes.txt").write_text("mine\n", encoding="utf-8")
    corrupt = root / "corrupt"
    shutil.copytree(baseline_run / "checkpoint", corrupt)
    (corrupt / "model.skops").write_bytes(b"not a zip")
    model = ["--model", str(baseline_run)]
    return {
        "no match": (
            [*model, "--input", str(root / "nothing" / "*.jsonl"), "--output", str(root / "o1")],
            "no input matches",
        ),
        "malformed json": (
            [*model, "--input", str(root / "json"), "--output", str(root / "o2")],
            f"{root / 'json' / 'a.jsonl'}:2: malformed JSON",
        ),
        "not utf-8": (
            [*model, "--input", str(root / "latin1"), "--output", str(root / "o3")],
            f"{root / 'latin1' / 'a.csv'}: not UTF-8",
        ),
        "bad parquet": (
            [*model, "--input", str(root / "parquet"), "--output", str(root / "o4")],
            f"{root / 'parquet' / 'a.parquet'}: not a readable Parquet file",
        ),
        "missing text field": (
            [*model, "--input", str(root / "field"), "--output", str(root / "o5")],
            "no 'text' field (fields: id, content); name the text column with --text-field",
        ),
        "output is a file": (
            [*model, "--input", str(good), "--output", str(root / "a-file")],
            "exists and is not a folder",
        ),
        "not our folder": (
            [*model, "--input", str(good), "--output", str(root / "stranger")],
            "not empty and has no _manifest.json",
        ),
        "no checkpoint": (
            ["--model", str(root / "missing"), "--input", str(good), "--output", str(root / "o6")],
            "no such file or directory",
        ),
        "corrupt checkpoint": (
            ["--model", str(corrupt), "--input", str(good), "--output", str(root / "o7")],
            "cannot load the checkpoint",
        ),
        "workers without ray": (
            [*model, "--input", str(good), "--output", str(root / "o8"), "--workers", "2"],
            "need --engine ray",
        ),
        "ray client": (
            [
                *model,
                "--input",
                str(good),
                "--output",
                str(root / "o9"),
                "--engine",
                "ray",
                "--address",
                "ray://head:10001",
            ],
            "cannot run through Ray Client",
        ),
    }


def test_bad_input_is_one_error_line(baseline_run, tmp_path, capsys):
    for name, (argv, message) in bad_inputs(tmp_path, baseline_run).items():
        code, err = cli(*argv, capsys=capsys)
        assert code == 2, name
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, (name, err)


def test_one_run_per_output_folder(baseline_run, tmp_path):
    write_sentence_shards(tmp_path / "in")
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / batch.LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BatchError, match="another vistance.batch run is writing this folder"):
            run_batch(baseline_run, str(tmp_path / "in"), tmp_path / "out", progress=False)


def test_engine_ray_without_ray_says_how_to_install(baseline_run, tmp_path, monkeypatch, capsys):
    write_sentence_shards(tmp_path / "in")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    code, err = cli(
        "--model",
        str(baseline_run),
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "o"),
        "--engine",
        "ray",
        capsys=capsys,
    )
    assert (code, err) == (2, 'error: --engine ray needs Ray: pip install -e ".[scale]"\n')


# --------------------------------------------------------------------------- Ray


@pytest.mark.faults
@pytest.mark.slow
def test_ray_engine_equals_predict_and_resumes_after_interrupt(baseline_run, tiny_run, tmp_path, monkeypatch):
    for key, value in batch.LOCAL_RAY_ENV.items():  # before Ray is imported: it reads them once
        if key not in os.environ:
            monkeypatch.setenv(key, value)
    ray = pytest.importorskip("ray", reason='ray is not installed (pip install -e ".[scale]")')
    expected = write_sentence_shards(tmp_path / "in")
    article_shard(tmp_path / "articles" / "news.jsonl")
    texts = [t for _, t in expected]

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ray.init(address="local", num_cpus=2, _temp_dir=temp, include_dashboard=False)
    try:
        for run, tol in ((baseline_run, 1e-9), (tiny_run, 1e-5)):
            out = tmp_path / f"out-{run.name}"
            # 0.5 CPU each: two actors and the driver share two cores.
            manifest = run_batch(
                run, str(tmp_path / "in"), out, engine="ray", workers=2, cpus_per_worker=0.5, progress=False
            )
            assert manifest["engine"] == "ray" and manifest["counts"]["sentences"] == len(texts)
            rows = read_output(out)
            assert [(r["id"], r["text"]) for r in rows] == expected
            assert_rows_match(rows, texts, StanceClassifier.from_pretrained(run), tol)
        run_batch(
            tiny_run,
            str(tmp_path / "articles"),
            tmp_path / "art-ray",
            articles=True,
            engine="ray",
            workers=2,
            cpus_per_worker=0.5,
            progress=False,
        )
        run_batch(tiny_run, str(tmp_path / "articles"), tmp_path / "art-local", articles=True, progress=False)
        ray_rows, local_rows = read_output(tmp_path / "art-ray"), read_output(tmp_path / "art-local")
        assert [r["id"] for r in ray_rows] == [r["id"] for r in local_rows]
        assert [r["stance"] for r in ray_rows] == [r["stance"] for r in local_rows]
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)

    # Twelve shards through one actor, interrupted (Ctrl-C) once the first is written.
    rows = seed_rows()
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(12):
        with open(archive / f"day-{i:02d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(
                json.dumps({"id": f"{i}-{r['id']}", "text": r["text"]}, ensure_ascii=False) + "\n" for r in rows
            )
    out = tmp_path / "archive-out"
    args = [
        "--model",
        str(tiny_run),
        "--input",
        str(archive),
        "--output",
        str(out),
        "--engine",
        "ray",
        "--workers",
        "1",
        "--cpus-per-worker",
        "0.5",
    ]
    argv = [sys.executable, "-m", "vistance.batch", *args]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    # As a user's Ctrl-C in a terminal: SIGINT raises KeyboardInterrupt. A test run started in the background of a
    # non-interactive shell (`cmd &`, as CI scripts do) inherits SIGINT ignored, and Python then leaves it ignored.
    interruptible = [
        sys.executable,
        "-c",
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv = ['vistance.batch', *sys.argv[1:]]; runpy.run_module('vistance.batch', run_name='__main__')",
        *args,
    ]
    proc = subprocess.Popen(interruptible, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while not glob.glob(str(out / "*.parquet")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    written = len(list(out.glob("*.parquet")))
    assert 1 <= written < 12, f"the interrupt came too late to test resuming ({written} shards written)"
    assert json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["status"] == "interrupted"

    done = subprocess.run(argv + ["--quiet"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    ids = [r["id"] for r in read_output(out)]
    assert len(ids) == len(set(ids)) == 12 * len(rows)
    assert json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["status"] == "complete"


@pytest.mark.faults
@pytest.mark.slow
def test_ray_engine_gives_up_a_shard_whose_actor_keeps_dying(baseline_run, tmp_path, monkeypatch):
    """The actor that reaches part-1.csv dies (os._exit(137)); Ray restarts it and retries, until the
    attempts counted beside the output reach --max-attempts: then the shard is failed, the others done."""
    for key, value in batch.LOCAL_RAY_ENV.items():
        if key not in os.environ:
            monkeypatch.setenv(key, value)
    ray = pytest.importorskip("ray", reason='ray is not installed (pip install -e ".[scale]")')
    expected = write_sentence_shards(tmp_path / "in")
    inputs, out = str(tmp_path / "in"), tmp_path / "out"
    monkeypatch.setenv(batch.FAULT_ENV, "part-1.csv")
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ray.init(address="local", num_cpus=2, _temp_dir=temp, include_dashboard=False)
    try:
        start = time.monotonic()
        manifest = run_batch(
            baseline_run, inputs, out, engine="ray", workers=2, cpus_per_worker=0.5, progress=False, max_attempts=2
        )
        assert time.monotonic() - start < 240
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
    assert manifest["status"] == "partial" and sorted(manifest["shards"]) == ["part-0.parquet", "part-2.parquet"]
    failed = manifest["failed"]["part-1.parquet"]
    assert (failed["attempts"], failed["rows"]) == (2, 40) and "died 2 time(s)" in failed["error"]
    assert not (out / "part-1.parquet").exists() and not list(out.glob(".*.attempts"))

    monkeypatch.delenv(batch.FAULT_ENV)
    manifest = run_batch(baseline_run, inputs, out, progress=False)
    assert manifest["status"] == "complete" and manifest["timings"]["shards"] == 1
    assert [(r["id"], r["text"]) for r in read_output(out)] == expected


def _manifest_shards(out: Path) -> dict:
    try:
        return json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["shards"]
    except (OSError, ValueError):
        return {}


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every live descendant of ``pid``, read from /proc."""
    children: dict[int, list[tuple[int, str]]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append((int(text.split()[0]), name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


@pytest.mark.faults
@pytest.mark.slow
@pytest.mark.subprocess
def test_ray_going_away_mid_run_is_one_line_and_the_rerun_finishes(baseline_run, tmp_path):
    """The raylet of the command's own Ray is killed (kill -9) once a shard is written: Ray then ends its
    driver process with no exception. The command says so in one line, exits 2, keeps the finished shards
    in the manifest and no half-written shard; the same command again scores the rest, each row once."""
    pytest.importorskip("ray", reason='ray is not installed (pip install -e ".[scale]")')
    if not Path("/proc/self/stat").exists():
        pytest.skip("finds the raylet through /proc (Linux)")
    rows = seed_rows()
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(8):
        with open(archive / f"day-{i:02d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(
                json.dumps({"id": f"{i}-{r['id']}", "text": r["text"]}, ensure_ascii=False) + "\n" for r in rows
            )
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "vistance.batch",
        "--model",
        str(baseline_run),
        "--input",
        str(archive),
        "--output",
        str(out),
        "--engine",
        "ray",
        "--workers",
        "1",
        "--cpus-per-worker",
        "0.5",
        "--quiet",
    ]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("RAY_TMPDIR", None)  # the command makes (and must remove) its own Ray folder
    ray_folders = set(glob.glob("/tmp/ray-*"))
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while not _manifest_shards(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        raylets = [pid for pid, name in _descendants(proc.pid) if name == "raylet"]
        assert raylets, "no raylet under the command"
        for pid in raylets:
            os.kill(pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    last = err.strip().splitlines()[-1]
    assert proc.returncode == 2, err
    assert last.startswith("error: Ray stopped answering mid-run (") and "Traceback" not in err, err
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    kept = sorted(manifest["shards"])
    assert manifest["status"] == "failed" and 1 <= len(kept) < 8, (manifest["status"], kept, err)
    assert f"the {len(kept)} shard(s) finished in this run are kept in {out}" in last, err
    for name in kept:  # every kept shard is complete
        assert pq.read_table(out / name).num_rows == len(rows)
    left = [p for p in glob.glob("/tmp/ray-*") if p not in ray_folders]
    assert not left, f"Ray's folder was left behind: {left} {[str(p) for p in Path(left[0]).rglob('*')][:20]}"

    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["timings"]["shards_already_done"] == len(kept)
    ids = [r["id"] for r in read_output(out)]
    assert len(ids) == len(set(ids)) == 8 * len(rows)
    assert not list(out.glob(".*.tmp")) and not list(out.glob(".*.attempts"))


# --------------------------------------------------------------------------- dates


def test_article_dates_from_published_at_or_the_named_field():
    rows = [
        {"id": "a1", "text": "Ông Putin nói Nga sẵn sàng.", "published_at": "2026-01-20T23:30:00+07:00"},
        {
            "id": "a2",
            "text": "Ông Trump nói Mỹ sẵn sàng.",
            "pubDate": "Tue, 10 Jun 2025 08:00:00 +0700",
            "seen": "03/02/2026",
        },
    ]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    sents, _ = batch.shard_sentences("s.jsonl", data, articles=True, text_field="text")
    assert {s["article"]: s["date"] for s in sents} == {"a1": "2026-01-20", "a2": "2025-06-10"}
    sents, _ = batch.shard_sentences("s.jsonl", data, articles=False, text_field="text", date_field="seen")
    assert [s["date"] for s in sents] == [None, "2026-02-03"]
    with pytest.raises(InputError, match="no 'when' field for --date-field"):
        batch.shard_sentences("s.jsonl", data, articles=True, text_field="text", date_field="when")
