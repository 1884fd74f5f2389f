"""Reports come from the Jinja2 templates in vistance/resources/templates: text from the data never becomes markup,
and the templates ship with the package."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

from test_actors import ROWS, row, write_jsonl
from test_evaluation import GOLD, LABELS, PROBS, make_run

from vistance.actors import main as actors_main
from vistance.evaluation import score
from vistance.reports.comparison import compare_runs, write_comparison
from vistance.reports.evaluation import write_report

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = "<img src=x onerror=alert(1)>"  # no slash: it can be a folder name


def assert_escaped(page: str, *hostile: str) -> None:
    assert "<script" not in page and "<img src=x" not in page and "onerror=alert(1)>" not in page
    for text in hostile:
        assert text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page


def test_the_evaluation_report_escapes_sentences_ids_and_sources(tmp_path):
    texts = [f"Câu {i}: Nga {SCRIPT} đàm phán." for i in range(8)]
    meta = [{"source": IMG if i % 2 else "seed", "part": "body"} for i in range(8)]
    ev = score(
        [f"{IMG}{i}" for i in range(8)],
        texts,
        GOLD,
        PROBS,
        LABELS,
        "joint",
        {"run": f"runs/{IMG}/1", "split": "test"},
        meta=meta,
    )
    page = write_report(ev, tmp_path)["html"].read_text(encoding="utf-8")
    assert_escaped(page, SCRIPT, IMG)
    assert ESCAPED in page and page.count("data:image/png;base64,") == 3  # the figures are still embedded


def test_the_comparison_escapes_run_names_and_settings(tmp_path):
    runs = [
        make_run(
            tmp_path / IMG / f"2026010{i}-000000", gold=GOLD, probs=PROBS, config={"data.text_column": f"{SCRIPT}{i}"}
        )
        for i in range(2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare_runs(runs)
    page = write_comparison(cmp, tmp_path / "cmp")["html"].read_text(encoding="utf-8")
    assert_escaped(page, IMG, SCRIPT)
    assert "<code>data.<wbr>text_column</code>" in page  # the template's own markup is kept


def test_the_actor_report_escapes_speakers_claims_and_articles(tmp_path, capsys):
    rows = ROWS + [dict(row(20 + i, f"Sergey {IMG}", "favor", "2025-01-20", article=f"a{SCRIPT}")) for i in range(3)]
    rows[0] = dict(rows[0], text=f"Vladimir Putin {SCRIPT} nói.")
    pred = write_jsonl(tmp_path / "p.jsonl", rows)
    assert actors_main([str(pred), "--min-claims", "2", "--out", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert_escaped(page, SCRIPT, f"Sergey {IMG}")
    assert "<mark>Vladimir Putin</mark>" in page  # the template's own markup is kept


def test_the_model_card_is_not_html_escaped():
    from test_train_modelcard import _inputs

    from vistance.reports.modelcard import model_card

    cfg, meta, metrics, data = _inputs()
    card = model_card(cfg, meta, metrics, {**data, "files": {"data/a&b<c>.jsonl": "0" * 64}})
    assert "- `data/a&b<c>.jsonl` (sha256 `000000000000…`)" in card


def test_every_template_ships_as_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["vistance"]
    package = ROOT / "src" / "vistance"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    templates = sorted((package / "resources" / "templates").iterdir())
    assert {t.name for t in templates} >= {
        "base.html",
        "evaluation.html",
        "comparison.html",
        "actors.html",
        "model_card.md",
    }
    assert all(t.is_file() for t in templates) and set(templates) <= shipped
