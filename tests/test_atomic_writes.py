"""Writes survive a full disk and a killed process: a writer that fails halfway with ENOSPC leaves the
previous file whole and no temporary behind; a checkpoint folder cut short is never loaded."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vistance import batch, checkpoint
from vistance.annotate.records import Annotated, write_corpus
from vistance.data import tables
from vistance.errors import CheckpointError
from vistance.runs import write_json


@pytest.fixture
def full_disk(monkeypatch):
    """The low-level writer writes half of what it is given, then fails as a full disk does."""
    calls = []

    def half_then_enospc(fd, data):
        calls.append(len(data))
        os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tables, "_write_all", half_then_enospc)
    return calls


def only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_text_and_json_writes_keep_the_previous_file_on_enospc(tmp_path, full_disk):
    target = tmp_path / "metrics.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    for write in (
        lambda: tables.atomic_write_text(target, "x" * 10_000),
        lambda: write_json(target, {"new": list(range(1000))}),
        lambda: tables.write_jsonl(target, [{"id": i} for i in range(1000)]),
    ):
        with pytest.raises(OSError) as err:
            write()
        assert err.value.errno == errno.ENOSPC
        assert target.read_text(encoding="utf-8") == '{"old": true}\n'
        assert only(tmp_path) == ["metrics.json"]  # no temporary file left
    assert len(full_disk) == 3 and min(full_disk) > 1000  # the writer really was called with the data


def test_a_new_file_is_absent_not_half_written_on_enospc(tmp_path, full_disk):
    with pytest.raises(OSError):
        tables.atomic_write_text(tmp_path / "new.jsonl", "y" * 5000)
    assert only(tmp_path) == []


def test_a_manifest_write_keeps_the_previous_manifest_on_enospc(tmp_path, full_disk):
    (tmp_path / batch.MANIFEST).write_text('{"shards": {}}\n', encoding="utf-8")
    with pytest.raises(OSError):
        write_json(tmp_path / batch.MANIFEST, {"shards": {f"p{i}.parquet": {} for i in range(500)}})
    assert json.loads((tmp_path / batch.MANIFEST).read_text(encoding="utf-8")) == {"shards": {}}
    assert only(tmp_path) == [batch.MANIFEST]


def test_a_prediction_shard_keeps_the_previous_output_on_enospc(tmp_path, monkeypatch):
    target = tmp_path / "part-0.parquet"
    pq.write_table(pa.table({"id": ["old"]}), target)

    def half_then_enospc(table, where):
        Path(where).write_bytes(b"PAR1" + b"\0" * 100)  # half a Parquet file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", half_then_enospc)
    with pytest.raises(OSError):
        batch.write_atomic_parquet(pa.table({"id": ["new"] * 1000}), target)
    monkeypatch.undo()
    assert pq.read_table(target).to_pylist() == [{"id": "old"}]
    assert only(tmp_path) == ["part-0.parquet"]


def test_a_label_import_keeps_the_corpus_on_enospc(tmp_path, monkeypatch):
    out = tmp_path / "round4.jsonl"
    old = (
        '{"id": "a-00", "article": "a", "date": null, "text": "Cũ.", "claim": "not_claim", "stance": null, '
        '"speaker": null}\n'
    )
    out.write_text(old, encoding="utf-8")
    item = Annotated(
        where="task #1",
        meta={"id": "b-00", "text": "Nga sẵn sàng đàm phán.", "article": "b", "date": "2025-01-01"},
        claim="claim",
        stance="favor",
    )
    real = tables._write_all
    writes = []

    def enospc_on_the_final_write(fd, data):
        writes.append(len(data))
        if len(writes) == 2:  # the first write is the validation copy, the second the corpus itself
            os.write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    monkeypatch.setattr(tables, "_write_all", enospc_on_the_final_write)
    with pytest.raises(OSError):
        write_corpus([item], out, mode="append")
    assert out.read_text(encoding="utf-8") == old and only(tmp_path) == ["round4.jsonl"]
    monkeypatch.undo()
    result = write_corpus([item], out, mode="append")
    assert not result.errors and len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_a_checkpoint_folder_is_replaced_whole_or_not_at_all(tmp_path, full_disk):
    target = tmp_path / "checkpoint"
    target.mkdir()
    (target / "vistance.json").write_text("old\n", encoding="utf-8")
    with pytest.raises(OSError), tables.atomic_folder(target) as folder:
        (folder / "model.bin").write_bytes(b"weights")
        tables.atomic_write_text(folder / "vistance.json", "new" * 1000)  # the disk fills here
    assert only(target) == ["vistance.json"] and (target / "vistance.json").read_text() == "old\n"
    assert only(tmp_path) == ["checkpoint"]


def test_a_checkpoint_cut_short_by_a_kill_is_never_loaded(tmp_path, baseline_run):
    """A process killed while saving leaves only the .partial- folder, which the loader refuses in one line."""
    code = (
        "import os, shutil, sys\n"
        "from vistance.data.tables import atomic_folder\n"
        "with atomic_folder(sys.argv[2]) as d:\n"
        "    shutil.copytree(sys.argv[1], d, dirs_exist_ok=True)\n"
        "    os._exit(137)\n"
    )
    target = tmp_path / "run" / "checkpoint"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(baseline_run / "checkpoint"), str(target)],
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert proc.returncode == 137
    assert not target.exists()
    (partial,) = (tmp_path / "run").iterdir()
    assert partial.name.startswith(".checkpoint.partial-") and (partial / "vistance.json").is_file()
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_predictor(partial)
    assert "half-written by a crash" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match="neither a checkpoint folder"):
        checkpoint.resolve_checkpoint(tmp_path / "run")
