"""The one reader of user tables (JSONL, CSV, TSV, Parquet; the text formats also gzipped) and writer of
JSONL, shared by training, evaluation, prediction, batch scoring and the annotation tools, so that every
command reads a file the same way: BOM accepted, UTF-8 checked, rows numbered by their line, ids made
by one rule, and a bad file reported as ``file:line: problem`` on one line.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, VistanceError

TABLE_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv")
"""Text tables a user pastes or uploads (also readable gzipped, as ``.jsonl.gz``)."""
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}
PARTIAL_MARK = ".partial-"
"""In the name of a folder being written by :func:`atomic_folder`; loaders refuse such a folder."""
_UMASK = os.umask(0)
os.umask(_UMASK)


@dataclass
class Table:
    path: Path
    columns: list[str]
    """Column names: the CSV header, or every key seen in the JSONL rows (first-seen order)."""
    rows: list[tuple[int, dict]] = field(default_factory=list)
    """(line number in the file, row) pairs; blank lines are not rows."""


def row_id(row: dict, path: str | Path, n: int) -> str:
    """A row's id: its own ``id`` field, else ``<file stem>-<line number>`` (stable while the file is)."""
    rid = row.get("id")
    return str(rid) if rid not in (None, "") else f"{Path(path).stem}-{n}"


def read_text_file(path: str | Path, error: type[VistanceError] = DataError) -> str:
    """A UTF-8 file's text (a BOM is dropped); unreadable or non-UTF-8 files raise ``error`` naming the file."""
    path = Path(path)
    try:
        return read_bytes_file(path, error).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); re-save it as UTF-8") from None


def read_bytes_file(path: str | Path, error: type[VistanceError] = DataError) -> bytes:
    """A file's bytes; a missing, folder or unreadable path raises ``error`` with one line naming it."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})") from None


def iter_jsonl(
    path: str | Path, text: str | None = None, error: type[ValueError] = DataError
) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSONL file (or of ``text`` read from it).

    Fails on the first bad line with ``path:line: what is wrong`` (raised as ``error``).
    """
    if text is None:
        text = read_text_file(path, error if issubclass(error, VistanceError) else DataError)
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may sit inside a string
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise error(f"{path}:{n}: malformed JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise error(f"{path}:{n}: expected a JSON object, got {type(obj).__name__}")
        yield n, obj


def table_format(path: str | Path) -> tuple[str, bool] | None:
    """``(format, gzipped)`` from a file name (``jsonl``, ``csv``, ``tsv``, ``parquet``), or None for another file.

    Parquet compresses itself, so ``.parquet.gz`` is not a table.
    """
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    fmt = FORMATS.get(Path(name[:-3] if gz else name).suffix)
    if fmt is None or (gz and fmt == "parquet"):
        return None
    return fmt, gz


def table_stem(path: str | Path) -> str:
    """The file name without its format suffixes: ``part-0`` for ``part-0.jsonl.gz``."""
    name = Path(path).name
    return Path(name[:-3] if name.lower().endswith(".gz") else name).stem


def iter_table(
    path: str | Path,
    data: bytes | str | None = None,
    *,
    columns: Sequence[str] | None = None,
    error: type[VistanceError] = DataError,
) -> Iterator[tuple[int, dict]]:
    """``(line or row number, row)`` for each row of a table file, in file order.

    ``data``: the file's bytes (or decoded text) when the caller already has them; else the file is read.
    ``columns``: Parquet reads only these (where present); the text formats give every field.
    Blank JSONL lines are not rows. Problems raise ``error`` as ``path[:line]: what is wrong``.
    """
    return _open_table(Path(path), data, columns, error)[1]


def read_table(path: str | Path, error: type[VistanceError] = DataError, text: str | bytes | None = None) -> Table:
    """All rows of a JSONL / CSV / TSV / Parquet file (text formats also gzipped); see :func:`iter_table`.

    ``text``: the file's content when the caller already has it (an upload).
    """
    header, rows = _open_table(Path(path), text, None, error)
    rows = list(rows)
    columns = header if header is not None else list(dict.fromkeys(k for _, r in rows for k in r))
    return Table(Path(path), columns, rows)


def _open_table(
    path: Path, data: bytes | str | None, columns: Sequence[str] | None, error: type[VistanceError]
) -> tuple[list[str] | None, Iterator[tuple[int, dict]]]:
    """``(header, rows)``: the header of a CSV / TSV / Parquet file (None for JSONL) and an iterator of rows."""
    kind = table_format(path)
    if kind is None:
        raise error(
            f"{path}: unsupported file type {path.suffix.lower() or '(none)'!r} "
            "(use .jsonl, .csv, .tsv or .parquet; .jsonl.gz and .csv.gz too)"
        )
    fmt, gz = kind
    if data is None:
        if not gz and fmt != "parquet":
            data = read_text_file(path, error)
        else:
            data = read_bytes_file(path, error)
    if gz and isinstance(data, bytes):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise error(f"{path}: not a readable gzip file ({e})") from None
    if fmt == "parquet":
        return _parquet_table(path, data.encode() if isinstance(data, str) else data, columns, error)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise error(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); re-save it as UTF-8") from None
    if fmt == "jsonl":
        return None, iter_jsonl(path, data, error=error)
    # Article bodies can exceed csv's default 128 KiB field limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(data, newline=""), delimiter="\t" if fmt == "tsv" else ",")
    try:
        header = list(reader.fieldnames or [])
    except csv.Error as e:
        raise error(f"{path}:{reader.line_num}: malformed CSV ({e})") from None

    def rows() -> Iterator[tuple[int, dict]]:
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as e:
            raise error(f"{path}:{reader.line_num}: malformed CSV ({e})") from None

    return header, rows()


def _parquet_table(
    path: Path, data: bytes, columns: Sequence[str] | None, error: type[VistanceError]
) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(pa.BufferReader(data))
        names = source.schema_arrow.names
        table = source.read(columns=None if columns is None else [c for c in columns if c in names])
    except (pa.ArrowException, OSError) as e:
        raise error(f"{path}: not a readable Parquet file ({e})") from None
    return list(table.column_names), enumerate(table.to_pylist(), 1)


def count_rows(path: str | Path) -> int | None:
    """Rows in a table file, counted without parsing them (None if even that fails): what a failed batch shard lost."""
    kind = table_format(path)
    if kind is None:
        return None
    fmt, gz = kind
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        with (gzip.open if gz else open)(path, "rb") as f:
            if fmt == "jsonl":
                return sum(1 for line in f if line.strip())
            text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
            return max(sum(1 for _ in csv.reader(text, delimiter="\t" if fmt == "tsv" else ",")) - 1, 0)
    except (OSError, ValueError, csv.Error, ImportError):
        return None


def read_labelled_table(
    path: str | Path, text_column: str, label_column: str, error: type[VistanceError] = DataError
) -> list[dict]:
    """``{id, text, label}`` rows of any table with a text and a label column (labels as strings).

    Rows with an empty text or label are skipped with a warning that counts them.
    """
    table = read_table(path, error)
    if not table.rows:
        raise error(f"{path}: no rows")
    for col in (text_column, label_column):
        if col not in table.columns:
            raise error(
                f"{path}: no column {col!r} (columns: {', '.join(map(str, table.columns))}); "
                "set data.text_column / data.label_column"
            )
    out, skipped = [], 0
    for n, row in table.rows:
        text, label = row.get(text_column), row.get(label_column)
        if text is None or not str(text).strip() or label is None or str(label).strip() == "":
            skipped += 1
            continue
        out.append({"id": row_id(row, path, n), "text": str(text), "label": str(label).strip()})
    if skipped:
        print(f"warning: {path}: skipped {skipped} row(s) with an empty text or label", file=sys.stderr)
    return out


def read_jsonl(path: str | Path) -> list[dict]:
    return [obj for _, obj in iter_jsonl(path)]


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is out: a full disk shows as a short write, then ENOSPC."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(folder: str | Path) -> None:
    """Make a rename inside ``folder`` durable (the new directory entry reaches the disk)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory; the rename is still atomic
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary name beside ``path`` for a writer that wants a file name (Parquet, skops, CSV).

    On success the file is fsynced and renamed over ``path``; on any error (a full disk, Ctrl-C)
    it is removed and ``path`` keeps its previous content. The name starts with a dot, which
    Parquet dataset readers and globs skip.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would hide the file from the user's group
        yield Path(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it and rename it over ``path``.

    A crash or a full disk leaves either the previous file or the new one, never half of either,
    and no temporary file behind (a ``kill -9`` can leave one dot-file, replaced by the next write).
    """
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    return Path(path)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``path`` (``.<name>.partial-XXXX``), renamed to ``path`` when the block ends.

    Every file in it is fsynced before the rename, and a folder already at ``path`` is replaced
    only then, so ``path`` is always either the previous complete folder or the new complete one.
    An error removes the temporary folder; a killed process leaves it under its ``.partial-`` name,
    which no loader accepts.
    """
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{PARTIAL_MARK}", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_UMASK)
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                fd = os.open(f, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
        fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` as UTF-8 (newlines written as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
