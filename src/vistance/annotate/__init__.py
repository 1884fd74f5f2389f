"""The annotation loop: export sentences to a labelling tool, import labels back, choose what to label next.

Command line::

    # sentences (article .txt / folder / JSONL / CSV / the pool CSV) -> a labelling tool
    python -m vistance.annotate export --input data/raw --format labelstudio --out ls/tasks.json [--model RUN]
    python -m vistance.annotate export --input batch.jsonl --format doccano --out batch.doccano.jsonl

    # the tool's export -> corpus records, validated (exit 1 with file:line problems, nothing written)
    python -m vistance.annotate import ls-export.json --out data/annotated/pool-2022.jsonl --batch r1 \
        --against data/annotated/*.jsonl

    # the k pool sentences the model is least sure of (+ 20 % random), labelled ones excluded
    python -m vistance.annotate rank --model runs/baseline/LATEST --pool POOL.csv --k 50 \
        --exclude data/annotated/*.jsonl --out batch.jsonl

    # baseline macro-F1 with 25/50/75/100 % of the labelled data, grouped CV (PNG + JSON)
    python -m vistance.annotate curve --config configs/baseline.yaml --cv 5 --out docs/learning_curve.png

    # label distribution before / after
    python -m vistance.annotate stats --set before=data/annotated/seed.jsonl \
        --set after=data/annotated/seed.jsonl,data/annotated/pool-2022.jsonl

Tool conventions (control names, doccano labels, the ``speaker:`` comment) are documented in
:mod:`vistance.annotate.labelstudio` and :mod:`vistance.annotate.doccano`.
"""

from .rank import RankConfig, rank, uncertainty
from .roundtrip import export_file, import_file
from .sources import read_pool_csv, read_sentences

__all__ = ["RankConfig", "export_file", "import_file", "rank", "read_pool_csv", "read_sentences", "uncertainty"]
