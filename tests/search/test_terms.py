"""Korean search terms: bigrams inside words, whole Latin tokens, one index/query rule."""

from __future__ import annotations

from crawler.text.terms import filter_term, normalize, query_terms, text_terms


def test_bigrams_match_inside_words_with_particles():
    stored = text_terms("대전시는 예산을 늘렸다")
    for word in ("대전", "대전시", "예산", "늘렸"):
        assert set(query_terms(word)) <= stored, word
    assert not set(query_terms("세종")) <= stored


def test_latin_and_digits_are_whole_tokens_case_and_width_folded():
    stored = text_terms("ＫＴＸ 세종역 2025년 5G")
    assert {"ktx", "2025", "5g"} <= stored
    assert query_terms("KTX") == ["ktx"]
    assert normalize("ＡＢＣ") == "abc"


def test_one_syllable_query_finds_word_starts():
    assert query_terms("쌀") == ["쌀"]
    assert "쌀" in text_terms("쌀값이 올랐다")
    assert "값" not in text_terms("쌀값이 올랐다")  # only run starts are unigrams


def test_query_terms_keep_order_without_repeats():
    assert query_terms("대전대전") == ["대전", "전대"]
    assert query_terms("!!!") == []


def test_filter_terms_are_safe_field_names():
    assert filter_term("o", "joongdo") == "@o:joongdo"
    assert filter_term("s", "경제") == "@s:경제"
    hashed = filter_term("s", "S.Korea $news")
    assert "." not in hashed and "$" not in hashed
    assert hashed == filter_term("s", "s.korea $NEWS")


def test_regex_terms_equal_the_run_definition():
    import json
    from pathlib import Path

    from crawler.text.terms import run_terms, runs

    texts = ["5g대전 abc_def ＫＴＸ², x²y", "é café naïve", "中文テスト 대 한 민국", ""]
    for path in sorted(Path(__file__).resolve().parents[1].glob("fixtures/*/*.json")):
        expected = json.loads(path.read_text(encoding="utf-8")).get("expected") or {}
        texts.append(f"{expected.get('title', '')}\n{expected.get('body', '')}")
    for text in texts:
        by_runs = {t for cjk, run in runs(normalize(text)) for t in run_terms(cjk, run)}
        assert text_terms(text) == by_runs, text[:40]
