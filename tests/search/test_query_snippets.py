"""Query parsing and highlighted snippets (structured, so front ends escape text themselves)."""

from __future__ import annotations

from crawler.search.query import parse_query
from crawler.search.snippets import Segment, highlight, match_spans, snippets


def test_words_and_quoted_phrases():
    parsed = parse_query('대전  "전통 시장"  KTX "미완성 구절')
    assert parsed.words == ("대전", "ktx")
    assert parsed.phrases == ("전통 시장", "미완성 구절")
    assert parsed.terms()[:1] == ["대전"]


def test_punctuation_only_parts_are_dropped():
    assert parse_query('… "" --').needles == ()


def test_highlight_maps_back_to_original_text():
    title = "ＫＴＸ 세종역, 대전시는"
    segments = highlight(title, ("ktx", "대전"))
    assert "".join(s.text for s in segments) == title
    assert [s.text for s in segments if s.highlight] == ["ＫＴＸ", "대전"]


def test_phrase_matches_across_line_breaks():
    assert match_spans("전통\n\n시장 활성화", ("전통 시장",)) == [(0, 6)]


def test_snippets_are_windows_with_ellipses():
    body = "가" * 200 + " 대전시의회가 열렸다 " + "나" * 200 + " 세종 " + "다" * 200
    found = snippets(body, parse_query("대전 세종"), max_chars=40)
    assert len(found) == 2
    assert sum(len(s.text) for snippet in found for s in snippet if s.text != "…") <= 40
    for snippet, word in zip(found, ("대전시", "세종")):  # the place word with its 시, not 의회
        assert snippet[0] == Segment("…") and snippet[-1] == Segment("…")
        assert [s.text for s in snippet if s.highlight] == [word]


def test_snippet_without_match_is_the_start():
    assert snippets("첫 문장입니다. 둘째 문장.", ("없는말",)) == [[Segment("첫 문장입니다. 둘째 문장.")]]
