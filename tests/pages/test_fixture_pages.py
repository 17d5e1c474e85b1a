"""Page objects against saved pages and their hand-checked expected fields.

Every `<name>.html` under tests/fixtures/<outlet>/ with a `<name>.json` beside it (the page's
`url` and its `expected` fields) is one case; one test per case and field, so a failure
names both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from itemadapter import ItemAdapter

from crawler.outlets import get_outlet, outlet_for_url, registry
from pipelines.normalize import NormalizePipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = sorted(
    p.with_suffix("") for p in FIXTURES.glob("*/*.json") if p.name != "site.json" and p.with_suffix(".html").exists()
)
FIELDS = ("outlet", "url", "canonical_url", "title", "subtitle", "sections", "published", "modified",
          "print_edition", "authors", "region", "wire", "body", "images")


def load(case: Path) -> dict:
    return json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))


def extract(case: Path, content_type: str | None = None) -> dict:
    meta = load(case)
    spec = outlet_for_url(meta["url"])
    page = spec.page_class()(url=meta["url"], html=case.with_suffix(".html").read_bytes(), outlet=spec, content_type=content_type)
    article = NormalizePipeline().process_item(page.to_article())
    doc = ItemAdapter(article).asdict()
    for name in ("published", "modified"):
        if doc[name] is not None:
            doc[name] = doc[name].isoformat()
    return doc


def test_every_fixture_folder_belongs_to_a_registered_outlet():
    folders = {p.parent.name for p in CASES}
    assert "joongdo" in folders
    assert folders <= set(registry()), f"fixture folders without an outlet spec: {folders - set(registry())}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("field", FIELDS)
def test_field_matches_expected(case, field):
    expected = load(case)["expected"]
    if field not in expected:
        pytest.skip(f"{case.name} states no expectation for {field}")
    assert extract(case)[field] == expected[field]


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_template_finds_the_core_fields_itself(case):
    """On the saved pages, no core field may need the generic fallback: that is for drift."""
    meta = load(case)
    spec = outlet_for_url(meta["url"])
    article = spec.page_class()(url=meta["url"], html=case.with_suffix(".html").read_bytes(), outlet=spec).to_article()
    assert article.provenance["title"] == "selector"
    assert article.provenance["body"] == "selector"
    assert article.provenance["published"] == "selector"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_lying_charset_header_changes_nothing(case):
    expected = load(case)["expected"]
    doc = extract(case, content_type="text/html; charset=iso-8859-1")
    assert doc["title"] == expected["title"] and doc["body"] == expected["body"]


def test_missing_template_elements_fall_back_to_meta():
    html = """<html><head><meta property="og:title" content="제목입니다 - 중도일보">
    <meta property="article:published_time" content="2024-03-12T09:30:00+09:00"></head>
    <body><div id="font">첫 문단.<br><br>둘째 문단.<br>대전=홍길동 기자 hong@</div></body></html>"""
    spec = get_outlet("joongdo")
    article = spec.page_class()(
        url="https://m.joongdo.co.kr/main/view.php?key=20240312010003418&utm_source=x", html=html, outlet=spec
    ).to_article()
    assert article.title == "제목입니다"
    assert article.provenance["title"] == "meta" and article.provenance["published"] == "meta"
    assert article.published.isoformat() == "2024-03-12T09:30:00+09:00"
    assert article.canonical_url == "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"
    assert article.authors == ["홍길동"] and article.region == "대전"
    # a 12-character body is below the template threshold; trafilatura finds no more here
    assert article.body == "첫 문단.\n\n둘째 문단."
