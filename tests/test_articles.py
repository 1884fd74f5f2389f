"""Article parsing and sentence splitting, checked on the seed articles as users feed them."""

import unicodedata
from pathlib import Path

import pytest

from vistance.data.articles import (
    MAX_SENTENCE_CHARS,
    parse_article,
    parse_file,
    parse_folder,
    read_text,
    split_long,
    split_sentences,
)
from vistance.text import MAX_CHARS, Preprocessor, desegment

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


@pytest.fixture(scope="module")
def seeds():
    return {a.id: a for a in parse_folder(RAW)}


def test_five_seed_articles_112_sentences(seeds):
    assert len(seeds) == 5
    assert sum(len(a.sentences) for a in seeds.values()) == 112


def test_date_marker_parsed_and_removed(seeds):
    a = seeds["001_d06111faa81564e0"]
    assert a.date == "2025-10-11"
    assert not a.text.lstrip().startswith("date")
    assert all(s.date == "2025-10-11" for s in a.sentences)
    # the first seed has no marker
    assert seeds["000_c82fef1677f6dddd"].date is None


def test_caption_is_first_sentence_and_whole(seeds):
    for a in seeds.values():
        first = a.sentences[0]
        assert first.kind == "caption"
        assert first.text.endswith("(Ảnh: Reuters).") or first.text.endswith("(Ảnh: Tass).")
    assert sum(s.kind == "caption" for a in seeds.values() for s in a.sentences) == 5


def test_sub_heading_detected(seeds):
    headings = [s for a in seeds.values() for s in a.sentences if s.kind == "heading"]
    assert [h.text for h in headings] == ["Ukraine nói Nga lo ngại việc chuyển giao tên lửa Tomahawk"]
    assert headings[0].id == "002_4f4d055f254cf7a1-18"


def test_stable_ids_and_positions(seeds):
    a = seeds["000_c82fef1677f6dddd"]
    assert [s.id for s in a.sentences[:3]] == [
        "000_c82fef1677f6dddd-00",
        "000_c82fef1677f6dddd-01",
        "000_c82fef1677f6dddd-02",
    ]
    assert [s.position for s in a.sentences] == list(range(len(a.sentences)))
    again = parse_file(RAW / "000_c82fef1677f6dddd.txt")
    assert [s.id for s in again.sentences] == [s.id for s in a.sentences]


def test_offsets_point_at_the_sentence(seeds):
    for a in seeds.values():
        for s in a.sentences:
            assert a.text[s.start : s.end].split() == s.text.split()


def test_quote_spanning_two_sentences_keeps_its_quote_marks(seeds):
    s = seeds["000_c82fef1677f6dddd"].sentences
    assert s[2].text == '"Các cuộc trao đổi vẫn tiếp tục.'
    assert s[3].text.startswith("Chúng tôi đang tích cực thảo luận")
    assert s[3].text.endswith('", ông Ushakov nói thêm.')
    # a three-sentence quote in seed 001 with its attribution in the last one
    s1 = seeds["001_d06111faa81564e0"].sentences
    assert s1[15].text.startswith('"Chúng tôi không tiết lộ')
    assert s1[17].text.endswith("đã suy yếu hay chưa.")


def test_numbers_and_dates_do_not_break_sentences():
    for text in [
        "Ông Ushakov ngày 16/11 tuyên bố Nga đang nhận được tín hiệu.",
        "Vòng đàm phán diễn ra tại Abu Dhabi vào ngày 4-5/2 theo kế hoạch.",
        "GDP tăng 3.5% trong quý II, theo TS. Nguyễn Văn A.",
        "Hai bên gặp nhau lúc 11:45 ngày 1/4/2022 tại Istanbul.",
    ]:
        assert split_sentences(text) == [text]


def test_sentence_with_inner_quote_and_attribution_is_one():
    text = 'Ông Trump khẳng định “sẽ chấm dứt cuộc xung đột Ukraine trong tương lai không xa".'
    assert split_sentences(text) == [text]


def test_nfd_input_is_normalised():
    raw = unicodedata.normalize("NFD", "Tổng thống Nga nói. Ông ấy đồng ý.")
    a = parse_article(raw, "x")
    assert [s.text for s in a.sentences] == ["Tổng thống Nga nói.", "Ông ấy đồng ý."]
    assert all(unicodedata.is_normalized("NFC", s.text) for s in a.sentences)


def test_single_newlines_separate_paragraphs_and_short_last_line_is_body():
    a = parse_article("Tiêu đề phụ ngắn\nĐoạn một có câu.\nKết thúc không dấu", "y")
    assert [(s.kind, s.text) for s in a.sentences] == [
        ("heading", "Tiêu đề phụ ngắn"),
        ("body", "Đoạn một có câu."),
        ("body", "Kết thúc không dấu"),
    ]


def test_empty_article_has_no_sentences():
    assert parse_article("  \n\n ", "z").sentences == []


def test_non_utf8_file_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("Tổng thống".encode("cp1258", errors="replace") + b"\xff\xfe")
    with pytest.raises(ValueError, match="bad.txt: not UTF-8"):
        read_text(bad)


LONG_CLAUSE = "Tổng thống Nga nói rằng các cuộc đàm phán hòa bình với Ukraine có thể tiếp tục , theo nguồn tin"


def long_sentence(n_chars: int) -> str:
    text = " ".join([LONG_CLAUSE] * (n_chars // len(LONG_CLAUSE) + 1))
    return text[: text.rindex(" ", 0, n_chars)] + "."


def test_a_one_sentence_article_is_cut_into_bounded_pieces_at_white_space():
    # A pasted page without punctuation: 300k characters, one "sentence" (it once took minutes, growing with the
    # square of the length, in pyvi and in the speaker scan).
    raw = long_sentence(300_000)
    assert 299_000 < len(raw) <= 300_000
    a = parse_article(raw, "huge")
    assert len(a.sentences) > 290_000 // MAX_SENTENCE_CHARS
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in a.sentences)
    assert all(MAX_SENTENCE_CHARS - 20 < len(s.text) for s in a.sentences[:-1])  # full pieces, cut near the cap
    assert " ".join(s.text for s in a.sentences) == raw  # cut between words: nothing lost, no word broken
    assert all(a.text[s.start : s.end] == s.text for s in a.sentences)
    assert [s.id for s in a.sentences[:2]] == ["huge-00", "huge-01"] and {s.kind for s in a.sentences} == {"body"}


def test_split_long_cuts_at_the_last_space_or_hard_when_there_is_none():
    assert split_long("ab cd ef gh", 5) == ["ab cd", "ef gh"]
    assert split_long("ab  cd", 3) == ["ab", "cd"]
    assert split_long("abcdefgh", 3) == ["abc", "def", "gh"]
    assert split_long("short", 10) == ["short"]


def test_preprocessor_truncates_a_huge_text_at_white_space_before_segmentation():
    text = long_sentence(300_000)
    out = Preprocessor()(text)
    words = desegment(out).split()
    assert len(desegment(out)) <= MAX_CHARS
    assert " ".join(words) == text[: len(" ".join(words))]  # a prefix of whole words
    assert len(desegment(out)) > MAX_CHARS - 20
