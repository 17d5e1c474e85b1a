"""`newsdesk evaluate`: scoring is right on constructed cases, the report splits the outlets'
own pages from unseen sites' pages, bad input is one error line, and the unseen set holds."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.cli import app
from crawler.devtools.evaluate import (
    Extracted,
    body_scores,
    compare,
    find_cases,
    group_of,
    load_cases,
    load_expected,
    score,
)
from crawler.text.dates import KST

FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNSEEN = FIXTURES / "unseen"

PAGE = """<html><head><title>{title} - 예시뉴스</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2024-03-12T14:27:00+09:00"></head>
<body><div class="menu">홈 정치 경제</div><h1>{title}</h1><p class="info">입력 2024.03.12 14:27</p>
<div class="article"><p>{first}</p><p>둘째 문단은 예산 규모와 일정을 설명한다. 시는 다음 달 공고를 낸다.</p>
<p>{last}</p></div><p class="byline">홍길동 기자 hong@example.kr</p>
<p class="copy">저작권자 © 예시뉴스 무단전재 및 재배포 금지</p></body></html>"""


def write_case(folder: Path, name: str, url: str, expected: dict, html: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.html").write_text(html or PAGE.format(title="시, 청년 주택 공급 확대", first="첫 문장이다.", last="끝 문장이다."),
                                         encoding="utf-8")
    (folder / f"{name}.json").write_text(json.dumps({"url": url, "expected": expected}, ensure_ascii=False), encoding="utf-8")


def test_body_scores_are_character_level():
    assert body_scores("가나다라", "가나다라") == (1.0, 1.0, 1.0)
    p, r, f1 = body_scores("가나다라", "가나")  # half recalled, all precise
    assert (p, r) == (1.0, 0.5) and abs(f1 - 2 / 3) < 1e-9
    p, r, _ = body_scores("가나", "가나다라마바")  # all recalled, a third precise
    assert (p, r) == (1 / 3, 1.0)
    assert body_scores("", "") == (1.0, 1.0, 1.0) and body_scores("가", "") == (0.0, 0.0, 0.0)
    assert body_scores("가  나\n\n다", "가 나 다") == (1.0, 1.0, 1.0)


def test_compare_fields_and_day_only_dates():
    expected = {"title": "제목", "published": "2019-08-23T19:01:00+09:00", "modified": None, "authors": ["오희룡"], "region": "세종"}
    got = Extracted("제목 ", datetime(2019, 8, 23, 0, 0, tzinfo=KST), None, ["오희룡"], None, "")
    correct, wrong = compare(expected, got)
    assert correct == {"title": True, "published": False, "published_day": True, "modified": True, "authors": True, "region": False}
    assert set(wrong) == {"published", "region"}
    # a field the page does not state is not scored
    correct, _ = compare({"title": "제목"}, got)
    assert set(correct) == {"title"}


def test_compare_body_start_end_and_chrome():
    expected = {"body_start": "첫 문장이다.", "body_end": "끝 문장이다.", "must_not_contain": ["홍길동 기자 hong@", "무단전재"]}
    clean = Extracted(None, None, None, [], None, "첫 문장이다.\n\n가운데.\n\n끝   문장이다.")
    correct, wrong = compare(expected, clean)
    assert correct == {"body_start": True, "body_end": True, "no_chrome": True} and not wrong
    # a lead byline before the first sentence, a trailer after the last: all three fail
    dirty = Extracted(None, None, None, [], None, "[예시뉴스=홍길동 기자] 첫 문장이다. 끝 문장이다.\n홍길동 기자 hong@example.kr")
    correct, wrong = compare(expected, dirty)
    assert correct == {"body_start": False, "body_end": False, "no_chrome": False}
    assert wrong["no_chrome"] == {"found": ["홍길동 기자 hong@"]}


def test_score_counts_checks_but_not_published_day(tmp_path):
    write_case(tmp_path, "a", "https://www.example.kr/news/1", {
        "title": "시, 청년 주택 공급 확대", "published": "2024-03-12T14:27:00+09:00", "authors": ["홍길동"],
        "body_start": "첫 문장이다.", "body_end": "끝 문장이다.", "must_not_contain": ["무단전재"],
        "body": "첫 문장이다.\n\n끝 문장이다.",
    })
    cases = load_cases(tmp_path)

    def fixed(url: str, html: bytes) -> Extracted:  # right title, day-only date, body with a trailer
        return Extracted("시, 청년 주택 공급 확대", datetime(2024, 3, 12, tzinfo=KST), None, [], None,
                         "첫 문장이다.\n\n끝 문장이다.\n\n무단전재")

    result = score("fixed", cases, fixed, "unseen")
    assert result.accuracy == {"title": 1.0, "published": 0.0, "published_day": 1.0, "authors": 0.0,
                               "body_start": 1.0, "body_end": 0.0, "no_chrome": 0.0}
    assert result.field_accuracy == 2 / 6  # title and body_start of six checks; published_day not counted
    assert result.body_recall == 1.0 and result.body_precision < 1.0
    assert result.pages == 1 and result.group == "unseen"


def test_find_cases_pairs_only():
    cases = find_cases(FIXTURES / "joongdo")
    names = {html.name for html, _ in cases}
    assert "seed_20190823.html" in names and not any(n.startswith("list_") for n in names)


def test_group_is_own_for_configured_outlets_only():
    assert group_of("https://www.joongdo.co.kr/web/view.php?key=20240312010003418") == "own"
    assert group_of("https://m.kado.net/news/articleView.html?idxno=1") == "own"
    assert group_of("https://www.mk.co.kr/news/sports/11328187") == "unseen"


def test_cli_reports_own_and_unseen_apart(tmp_path):
    folder = tmp_path / "pages"
    for name in ("seed_20190823.html", "seed_20190823.json"):
        (folder / "joongdo").mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "joongdo" / name, folder / "joongdo" / name)
    write_case(folder / "unseen" / "example", "a", "https://www.example.kr/news/1", {
        "title": "시, 청년 주택 공급 확대", "published": "2024-03-12T14:27:00+09:00",
        "body_start": "첫 문장이다.", "body_end": "끝 문장이다.", "must_not_contain": ["무단전재 및 재배포 금지"],
    })
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["evaluate", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "own: extraction on 1" in result.stdout and "unseen: extraction on 1" in result.stdout
    assert "body_start accuracy" in result.stdout and "trafilatura" in result.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [(s["group"], s["system"]) for s in data] == [
        ("own", "newsdesk"), ("own", "generic only"), ("own", "trafilatura"),
        ("unseen", "newsdesk"), ("unseen", "generic only"), ("unseen", "trafilatura"),
    ]
    own, unseen = data[0]["results"][0], data[3]["results"][0]
    assert "joongdo" in own["name"] and "example" in unseen["name"]
    assert "body_start" in unseen["correct"] and "body_start" not in own["correct"]


def test_cli_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["evaluate", str(FIXTURES / "joongdo"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "body F1" in result.stdout and "trafilatura" in result.stdout and "unseen:" not in result.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [s["system"] for s in data] == ["newsdesk", "generic only", "trafilatura"]
    assert data[0]["pages"] == len(find_cases(FIXTURES / "joongdo"))


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "no <name>.html + <name>.json pairs"),
    (lambda d: ((d / "a.html").write_text("<html></html>"), (d / "a.json").write_text("{not json")), "a.json: not readable JSON"),
    (lambda d: ((d / "a.html").write_text("<html></html>"), (d / "a.json").write_text('{"expected": {}}')), "the page's \"url\""),
    (lambda d: write_case(d, "a", "https://www.example.kr/1", {"published": "어제"}), "\"published\" '어제' is not an ISO 8601"),
    (lambda d: write_case(d, "a", "https://www.example.kr/1", {"authors": "홍길동"}), "\"authors\" must be a list"),
])
def test_cli_bad_input_is_one_error_line(tmp_path, setup, message):
    setup(tmp_path)
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path), "-o", str(tmp_path / "out.json")])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 3  # one message, wrapped at most


def test_cli_missing_folder(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "is not a folder" in result.output


def test_unseen_set_is_of_unknown_sites_and_consistent():
    cases = load_cases(UNSEEN)
    assert len(cases) >= 8
    for case in cases:
        assert case.group == "unseen", f"{case.json}: {case.url} is a configured outlet's page"
        exp = case.expected
        for key in ("published", "body", "body_start", "body_end", "must_not_contain"):
            assert key in exp, f"{case.json}: no {key!r}"
        body = " ".join(exp["body"].split())
        assert body.startswith(" ".join(exp["body_start"].split())) and body.endswith(" ".join(exp["body_end"].split()))
        page = case.html.read_bytes()
        assert page.strip(), case.html
        for chrome in exp["must_not_contain"]:
            assert " ".join(chrome.split()) not in body, f"{case.json}: chrome {chrome!r} inside the expected body"
        assert datetime.fromisoformat(exp["published"]).utcoffset() is not None
    assert (UNSEEN / "README.md").is_file()
    readme = (UNSEEN / "README.md").read_text(encoding="utf-8")
    for case in cases:
        assert f"{case.html.parent.name}/{case.html.stem}" in readme, f"{case.html} has no row in the README"


def test_load_expected_accepts_the_unseen_layout():
    url, expected = load_expected(next(UNSEEN.rglob("*.json")))
    assert url.startswith("http") and isinstance(expected["must_not_contain"], list)
