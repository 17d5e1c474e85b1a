"""An outlet redesigns: its template stops matching, and the generic fallback takes over.

Each saved outlet page is rebuilt with every class and id renamed (what a new skin does to
the selectors in families.toml), then extracted by the outlet's own page object. The fields
must still be the hand-checked ones, and provenance must show the fallback, which the crawl
counts (`newsdesk/fallback/*`) and health's drift condition watches.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.outlets import get_outlet
from crawler.text.dates import parse_iso_datetime
from pipelines.normalize import NormalizePipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAGES = sorted(p for p in FIXTURES.glob("*/*.json") if p.with_suffix(".html").is_file() and p.parent.name != "unseen")
_ATTR = re.compile(rb'\b(class|id)\s*=\s*(["\'])')
FIELDS = ("title", "published", "modified", "authors", "region", "body")
SELECTOR_SOURCES = ("selector", "text", "none")  # what the crawl does not count as a fallback


def redesigned(html: bytes) -> bytes:
    """Every class and id renamed: no template selector but tag and meta ones can match."""
    return _ATTR.sub(rb"\1=\2new-", html)


def expected_of(path: Path) -> tuple[str, dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["url"], data.get("expected", data)


@pytest.mark.parametrize("case", PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_redesigned_outlet_page_keeps_its_fields_through_the_fallback(case: Path):
    url, expected = expected_of(case)
    spec = get_outlet(expected.get("outlet") or case.parent.name)
    html = redesigned(case.with_suffix(".html").read_bytes())
    article = NormalizePipeline().process_item(spec.page_class()(url=url, html=html, outlet=spec).to_article())
    for name in FIELDS:
        if name not in expected:
            continue
        want = expected[name]
        if name in ("published", "modified"):
            want = parse_iso_datetime(want) if want else None
        assert getattr(article, name) == want, name
    assert article.provenance["body"] not in SELECTOR_SOURCES  # the crawl counts it: drift can fire


def test_a_redesign_that_leaves_nothing_readable_is_flagged():
    case = PAGES[0]
    url, expected = expected_of(case)
    spec = get_outlet(expected.get("outlet") or case.parent.name)
    html = b"<html><head><title>x</title></head><body><nav><a href='/'>home</a></nav><div class='new-body'></div></body></html>"
    article = spec.page_class()(url=url, html=html, outlet=spec).to_article()
    assert article.body == "" and article.provenance["quality"] == "low: no body"
