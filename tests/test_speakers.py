"""Speaker attribution: hand-written cases for each rule, offsets, persistence, and a floor on the labelled data."""

import json
from pathlib import Path

import pytest

from vistance.errors import CheckpointError
from vistance.speakers import SPEAKERS_FILE, SpeakerAttributor, normalize_speaker
from vistance.speakers.__main__ import main
from vistance.speakers.evaluation import (
    APPROACHES,
    DEFAULT_APPROACH,
    evaluate,
    grouped_folds,
)

ROOT = Path(__file__).resolve().parents[1]
LABELLED = sorted(str(p) for p in (ROOT / "data" / "annotated").glob("*.jsonl"))
RAW = ROOT / "data" / "raw"


def article(*texts, **extra):
    return [{"text": t, "article": "a", "position": i, **extra} for i, t in enumerate(texts)]


def speakers(sentences, attributor=None, **kw):
    return [r["speaker"] for r in (attributor or SpeakerAttributor()).attribute(sentences, **kw)]


def test_direct_quote_with_trailing_attribution():
    sents = article('"Chúng tôi tin rằng đây là một hướng đi tốt đẹp", ông Ushakov nhấn mạnh.')
    assert speakers(sents, context=False) == ["Yury Ushakov"]


def test_theo_x_and_title_with_name():
    sents = article("Theo Ngoại trưởng Nga Sergei Lavrov, Moscow sẵn sàng thể hiện sự linh hoạt.",
                    "Theo ông Trump, việc giải quyết xung đột sẽ là một nhiệm vụ dễ dàng.")
    assert speakers(sents, context=False) == ["Sergey Lavrov", "Donald Trump"]


def test_pronoun_takes_the_previous_speaker_only_with_context():
    sents = article("Người phát ngôn Điện Kremlin Dmitry Peskov ngày 27/8 tuyên bố đàm phán đã có đột phá.",
                    "Theo ông, vấn đề đảm bảo an ninh là quan trọng nhất.",
                    "Ông cũng nói rằng Nga vẫn cam kết giải quyết xung đột.")
    assert speakers(sents) == ["Dmitry Peskov"] * 3
    assert speakers(sents, context=False) == ["Dmitry Peskov", None, None]


def test_quote_fragment_takes_the_closing_attribution_of_a_later_sentence():
    sents = article('"Chắc chắn đây là một trong những vấn đề then chốt.',
                    "Vấn đề này sẽ nằm trong chương trình nghị sự.",
                    'Chúng tôi không muốn thảo luận công khai", Ngoại trưởng Ukraine Andrii Sybiha nói.')
    assert speakers(sents) == ["Andrii Sybiha"] * 3
    # Alone, the opening and middle sentences name nobody; Sybiha is not misread from inside the quote.
    assert speakers(sents, context=False) == [None, None, "Andrii Sybiha"]


def test_names_inside_quotes_are_not_speakers():
    sents = article('"Chúng tôi đã nhất trí với Tổng thống Mỹ Donald Trump", nhà lãnh đạo Nga nêu rõ.')
    assert speakers(sents, context=False) == ["Vladimir Putin"]


def test_capital_city_metonym_becomes_the_country():
    sents = article("Tuy nhiên, Moscow nhiều lần cho rằng Kiev không thực sự quan tâm đến hòa bình.",
                    "Washington khẳng định sẽ tiếp tục hỗ trợ các cuộc đàm phán.")
    assert speakers(sents, context=False) == ["Nga", "Mỹ"]


def test_titles_resolve_by_date_curated_and_by_alias():
    biden = article("Tổng thống Mỹ cáo buộc Nga về tội ác chiến tranh.", date="2022-04-05")
    trump = article("Tổng thống Mỹ cho biết ông sẽ gặp ông Putin.", date="2025-08-10")
    assert speakers(biden, context=False) == ["Joe Biden"]
    assert speakers(trump, context=False) == ["Donald Trump"]

    sentence = article("Quan chức Điện Kremlin xác nhận các cuộc tiếp xúc kín vẫn tiếp tục.")
    assert speakers(sentence, context=False) == ["Quan chức Điện Kremlin"]
    labelled = [{"text": "Quan chức Điện Kremlin nói Nga sẵn sàng đối thoại.", "claim": "claim",
                 "speaker": "Yury Ushakov"}]
    fitted = SpeakerAttributor.fit(labelled)
    assert fitted.aliases == {"quan chức điện kremlin": "Yury Ushakov"}
    assert speakers(sentence, fitted, context=False) == ["Yury Ushakov"]


def test_title_resolves_to_the_person_the_article_names_with_it():
    sents = article("Thị trưởng Vasylkiv Natalia Balasynovych (Ảnh: Reuters).",
                    "Thị trưởng Vasylkiv nói phía Ukraine có khoảng 10 người thương vong.")
    sents[0]["kind"] = "caption"
    assert speakers(sents)[1] == "Natalia Balasynovych"
    assert speakers(sents, context=False)[1] == "Thị trưởng Vasylkiv"


def test_reporting_chain_gives_the_reported_actor_not_the_outlet():
    sents = article("Axios đưa tin ông Trump đã nói với các nhà lãnh đạo châu Âu rằng ông Putin muốn thảo luận.",
                    "Theo Bloomberg, Tổng thống Zelensky cho biết Kiev sẵn sàng đóng băng tiền tuyến.",
                    "Các quan chức Nga liên tục cáo buộc Ukraine làm suy yếu các nỗ lực hòa bình.")
    assert speakers(sents, context=False) == ["Donald Trump", "Volodymyr Zelensky", "Quan chức Nga"]


def test_spans_are_offsets_of_the_mention():
    sents = article("Người phát ngôn Điện Kremlin Dmitry Peskov ngày 27/8 tuyên bố đàm phán đã có đột phá.",
                    '"Các cuộc trao đổi vẫn tiếp tục.',
                    'Chúng tôi đang tích cực thảo luận", ông Ushakov nói thêm.',
                    "Theo ông, điều này cho thấy họ muốn xung đột tiếp tục.")
    got = SpeakerAttributor().attribute(sents)
    assert [r["speaker_span"] is None for r in got] == [False, True, False, True]  # 1 and 3 come from neighbours
    texts = [s["text"][slice(*r["speaker_span"])] for s, r in zip(sents, got) if r["speaker_span"]]
    assert texts == ["Người phát ngôn Điện Kremlin Dmitry Peskov", "ông Ushakov"]


def test_articles_are_grouped_and_ordered_by_position():
    a = article("Ông Zelensky cho biết Kiev sẵn sàng.", "Ông nói thêm rằng cần có đảm bảo an ninh.")
    b = [dict(s, article="b") for s in article("Ông Rubio cho biết Mỹ sẽ tiếp tục.", "Ông nói rằng hòa bình đã gần.")]
    mixed = [a[1], b[1], b[0], a[0]]  # interleaved and out of order
    assert speakers(mixed) == ["Volodymyr Zelensky", "Marco Rubio", "Marco Rubio", "Volodymyr Zelensky"]


def test_a_very_long_sentence_is_scanned_like_its_parts():
    # Mentions were found with work growing as the square of the sentence's length (a 200k-character
    # sentence took minutes): a sentence repeated 2,000 times must give its mentions 2,000 times.
    from vistance.speakers.mentions import SentenceScan

    one = "Tổng thống Nga Vladimir Putin và Bộ Ngoại giao Ukraine cho biết các quan chức Mỹ sẽ đàm phán ; "
    single = SentenceScan(one)
    many = SentenceScan(one * 2000)
    n = len(single.tokens)
    assert len(many.mentions) == 2000 * len(single.mentions) > 0
    assert [(m.kind, m.first % n, m.actor) for m in many.mentions[-len(single.mentions):]] == \
        [(m.kind, m.first, m.actor) for m in single.mentions]


def test_round_trip_reproduces_attribution(tmp_path):
    records = [json.loads(line) for f in LABELLED for line in Path(f).read_text(encoding="utf-8").splitlines()]
    fitted = SpeakerAttributor.fit(records)
    assert fitted.aliases
    again = SpeakerAttributor.from_dict(json.loads(json.dumps(fitted.to_dict())))
    path = fitted.save(tmp_path)
    assert path.name == SPEAKERS_FILE
    loaded = SpeakerAttributor.load(tmp_path)
    sents = [dict(r, position=i) for i, r in enumerate(records[:150])]
    expected = fitted.attribute(sents)
    assert again.attribute(sents) == expected == loaded.attribute(sents)


@pytest.mark.parametrize("content", ["[]", '{"format": 99, "aliases": {}}', "not json"])
def test_unusable_speaker_table_is_a_checkpoint_error(tmp_path, content):
    (tmp_path / SPEAKERS_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(CheckpointError, match=SPEAKERS_FILE):
        SpeakerAttributor.load(tmp_path)


def test_folds_keep_articles_that_share_a_sentence_together():
    records = [{"id": f"{a}-0{i}", "article": a, "text": t, "claim": "claim"}
               for a, i, t in [("x", 0, "Cùng một câu."), ("y", 0, "Cùng một câu."), ("z", 0, "Câu khác."),
                               ("w", 0, "Câu thứ tư.")]]
    folds = grouped_folds(records, 3)
    assert any({"x", "y"} <= f for f in folds)


def test_accuracy_floor_on_the_labelled_data():
    """Grouped 5-fold CV with only the repository's article files as context (no shared pool needed).

    Measured: seed claims 0.99 with context, all labelled claims 0.63 with context and 0.50 alone
    (the 2022 pool is a sample, so without its CSV most of its claims have no neighbours).
    """
    report = evaluate(LABELLED, cv=5, context_paths=[RAW],
                      approaches=[a for a in APPROACHES if a.name == DEFAULT_APPROACH])
    scores = report["approaches"][DEFAULT_APPROACH]
    assert scores["context"]["by_source"]["seed"]["accuracy"] >= 0.93
    assert scores["context"]["accuracy"] >= 0.60
    assert scores["sentence"]["accuracy"] >= 0.45
    assert scores["context"]["accuracy"] > scores["sentence"]["accuracy"]


def test_cli_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "report.json"
    seed = str(ROOT / "data" / "annotated" / "seed.jsonl")
    assert main(["evaluate", seed, "--cv", "2", "--context", str(RAW), "--approaches", "cues", "+aliases",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "with article context" in printed and "top confusions" in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["approaches"]) == {"cues", "+aliases"}
    assert report["approaches"]["+aliases"]["context"]["claims"] == 98


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vistance.speakers: error:") and "\n" not in err


def test_normalisation_is_light():
    assert normalize_speaker("  Donald  TRUMP. ") == normalize_speaker("donald trump") == "donald trump"
    assert normalize_speaker(None) == ""


def test_a_trained_checkpoint_attributes_speakers_with_article_context(baseline_run):
    from vistance import StanceClassifier

    assert (baseline_run / "checkpoint" / SPEAKERS_FILE).is_file()
    clf = StanceClassifier.from_pretrained(baseline_run)
    article = ('Ông Yury Ushakov, Trợ lý Tổng thống Nga, ngày 16/11 tuyên bố Nga sẵn sàng đàm phán.\n\n'
               '"Các cuộc trao đổi vẫn tiếp tục.\n'
               'Chúng tôi chờ phản hồi", ông Ushakov nói.')
    sents = clf.analyze(article)["sentences"]
    for s in sents:
        assert set(s) >= {"speaker", "speaker_span"}
        if s["claim"] == "not_claim":
            assert s["speaker"] is None
    first = sents[0]
    if first["claim"] == "claim":
        assert first["speaker"] == "Yury Ushakov"
        assert first["text"][first["speaker_span"][0]:first["speaker_span"][1]].endswith("Ushakov")
    (row,) = clf.predict(["Ông Peskov nói Nga sẵn sàng đàm phán."])
    assert "speaker" in row
