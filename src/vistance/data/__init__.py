"""Data: the labelled corpus (:mod:`.corpus`), the one table reader (:mod:`.tables`), leak-free
splits (:mod:`.splits`) and the article parser (:mod:`.articles`).

Command line (``python -m vistance.data``)::

    python -m vistance.data validate data/annotated/*.jsonl
    python -m vistance.data sentences data/raw --out sentences.jsonl   # the corpus pipeline
    python -m vistance.data split data/annotated/*.jsonl [--k 5]       # show split sizes
"""

from .corpus import (
    OPTIONAL_KEYS,
    REQUIRED_KEYS,
    CorpusError,
    corpus_stats,
    expand_files,
    load_corpus,
    validate_files,
)
from .splits import Split, grouped_kfold, grouped_split, near_duplicate_groups
from .tables import (
    PARTIAL_MARK,
    Table,
    atomic_folder,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    file_sha256,
    iter_jsonl,
    read_jsonl,
    read_labelled_table,
    read_table,
    read_text_file,
    row_id,
    write_jsonl,
)

__all__ = [
    "OPTIONAL_KEYS",
    "PARTIAL_MARK",
    "REQUIRED_KEYS",
    "CorpusError",
    "Split",
    "Table",
    "atomic_folder",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "corpus_stats",
    "expand_files",
    "file_sha256",
    "grouped_kfold",
    "grouped_split",
    "iter_jsonl",
    "load_corpus",
    "near_duplicate_groups",
    "read_jsonl",
    "read_labelled_table",
    "read_table",
    "read_text_file",
    "row_id",
    "validate_files",
    "write_jsonl",
]
