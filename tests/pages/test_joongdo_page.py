"""중도일보 page object against saved pages and their hand-checked expected fields.

Each `<name>.html` in tests/fixtures/joongdo has a `<name>.json` beside it with the page's
`url` and `expected` fields; one test per page and field, so a failure names both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from itemadapter import ItemAdapter

from crawler.outlets import get_outlet
from crawler.pages.joongdo import JoongdoArticlePage
from pipelines.normalize import NormalizePipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo"
CASES = sorted(p.with_suffix("") for p in FIXTURES.glob("*.json") if p.name != "site.json")
FIELDS = ("outlet", "url", "canonical_url", "title", "subtitle", "sections", "published", "modified",
          "print_edition", "authors", "region", "wire", "body", "images")


def extract(case: Path) -> dict:
    meta = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))
    page = JoongdoArticlePage(url=meta["url"], html=case.with_suffix(".html").read_bytes(), outlet=get_outlet("joongdo"))
    article = NormalizePipeline().process_item(page.to_article())
    doc = ItemAdapter(article).asdict()
    for name in ("published", "modified"):
        if doc[name] is not None:
            doc[name] = doc[name].isoformat()
    return doc


def test_there_are_fixtures():
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
@pytest.mark.parametrize("field", FIELDS)
def test_field_matches_expected(case, field):
    expected = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))["expected"]
    if field not in expected:
        pytest.skip(f"{case.name} states no expectation for {field}")
    assert extract(case)[field] == expected[field]


def test_seed_dates_are_aware_kst():
    meta = json.loads((FIXTURES / "seed_20190823.json").read_text(encoding="utf-8"))
    page = JoongdoArticlePage(url=meta["url"], html=(FIXTURES / "seed_20190823.html").read_bytes(), outlet=get_outlet("joongdo"))
    article = page.to_article()
    assert article.published.utcoffset().total_seconds() == 9 * 3600
    assert article.provenance["title"] == "selector"
    assert article.provenance["published"] == "selector"


def test_missing_template_elements_fall_back_to_meta():
    html = """<html><head><meta property="og:title" content="제목입니다 - 중도일보">
    <meta property="article:published_time" content="2024-03-12T09:30:00+09:00"></head>
    <body><div id="font">첫 문단.<br><br>둘째 문단.<br>대전=홍길동 기자 hong@</div></body></html>"""
    article = JoongdoArticlePage(
        url="https://m.joongdo.co.kr/main/view.php?key=20240312010003418&utm_source=x", html=html, outlet=get_outlet("joongdo")
    ).to_article()
    assert article.title == "제목입니다"
    assert article.provenance == {"title": "meta", "published": "meta", "authors": "text", "body": "selector"}
    assert article.published.isoformat() == "2024-03-12T09:30:00+09:00"
    assert article.canonical_url == "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"
    assert article.authors == ["홍길동"] and article.region == "대전"
    assert article.body == "첫 문단.\n\n둘째 문단."
