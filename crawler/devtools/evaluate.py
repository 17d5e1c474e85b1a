"""`newsdesk evaluate DIR`: how well extraction does on pages with hand-checked answers.

DIR holds `<name>.html` + `<name>.json` pairs (searched recursively); the JSON has the page's
`url` and its expected fields, either under "expected" or at the top level. Pairs whose JSON
says `"checked": false` (not read against the page by hand yet) are left out. Scores, for
newsdesk and for trafilatura alone on the same pages in the same run:
- field accuracy for title, published, modified, authors, region (exact match after
  whitespace normalization; datetimes compared as instants), plus published to the day,
  because trafilatura only gives dates to the day;
- body precision, recall and F1 at character level (matching blocks of the two texts with
  whitespace normalized), macro-averaged over pages;
- milliseconds per page.
"generic only" is newsdesk's fallback (JSON-LD, meta, printed labels, densest block,
trafilatura) with no outlet template: what a page of an unknown or changed site gets.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from pathlib import Path
from statistics import mean
from typing import Any, Callable

import trafilatura

from crawler.outlets import OutletError, outlet_for_url
from crawler.pages.generic import GenericArticlePage
from crawler.text.bylines import parse_byline
from crawler.text.dates import KST, parse_iso_datetime
from crawler.text.encoding import decode_html
from pipelines.normalize import NormalizePipeline

FIELDS = ("title", "published", "published_day", "modified", "authors", "region")


@dataclass
class Extracted:
    title: str | None
    published: datetime | None
    modified: datetime | None
    authors: list[str]
    region: str | None
    body: str


@dataclass
class PageResult:
    name: str
    url: str
    correct: dict[str, bool]
    body_precision: float
    body_recall: float
    body_f1: float
    ms: float
    wrong: dict[str, Any] = field(default_factory=dict)


@dataclass
class SystemScore:
    system: str
    pages: int
    accuracy: dict[str, float]
    field_accuracy: float
    body_precision: float
    body_recall: float
    body_f1: float
    ms_per_page: float
    results: list[PageResult]


def find_cases(folder: Path, *, checked: bool = True) -> list[tuple[Path, Path]]:
    """(html, json) pairs under `folder`; JSON files without an HTML twin are ignored. A JSON
    that says `"checked": false` holds what the extractor made of its page (`newsdesk outlet
    add` writes them so) and no hand-checked answer: it is not scored (`checked=False` lists
    those instead)."""
    pairs = []
    for js in sorted(folder.rglob("*.json")):
        html = js.with_suffix(".html")
        if html.is_file() and is_checked(js) == checked:
            pairs.append((html, js))
    return pairs


def is_checked(path: Path) -> bool:
    """False only for an expected JSON marked `"checked": false`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # scoring names the unreadable file
    return not (isinstance(data, dict) and data.get("checked") is False)


def load_expected(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict) or "url" not in data:
        raise ValueError(f"{path}: expected an object with the page's \"url\"")
    url = data["url"]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"{path}: \"url\" {url!r} is not an absolute http(s) URL")
    expected = data.get("expected", data)
    if not isinstance(expected, dict):
        raise ValueError(f"{path}: \"expected\" must be an object of field values")
    return url, expected


def read_page(path: Path) -> bytes:
    """A case's saved HTML, or ValueError naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def body_scores(expected: str, got: str) -> tuple[float, float, float]:
    exp, out = _norm(expected), _norm(got)
    if not exp and not out:
        return 1.0, 1.0, 1.0
    if not exp or not out:
        return 0.0, 0.0, 0.0
    matched = sum(block.size for block in SequenceMatcher(None, exp, out, autojunk=False).get_matching_blocks())
    precision, recall = matched / len(out), matched / len(exp)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _as_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_iso_datetime(str(value))


def compare(expected: dict[str, Any], got: Extracted) -> tuple[dict[str, bool], dict[str, Any]]:
    correct: dict[str, bool] = {}
    wrong: dict[str, Any] = {}
    exp_pub, exp_mod = _as_dt(expected.get("published")), _as_dt(expected.get("modified"))
    checks = {
        "title": (_norm(expected.get("title")), _norm(got.title)),
        "published": (exp_pub, got.published),
        "published_day": (
            exp_pub.astimezone(KST).date() if exp_pub else None,
            got.published.astimezone(KST).date() if got.published else None,
        ),
        "modified": (exp_mod, got.modified),
        "authors": (list(expected.get("authors") or []), list(got.authors)),
        "region": (expected.get("region"), got.region),
    }
    for name, (want, have) in checks.items():
        if ("published" if name == "published_day" else name) not in expected:
            continue  # the page states no expectation for this field
        correct[name] = want == have
        if not correct[name]:
            wrong[name] = {"expected": str(want), "got": str(have)}
    return correct, wrong


def newsdesk_extract(url: str, html: bytes) -> Extracted:
    try:
        spec = outlet_for_url(url)
        page: Any = spec.page_class()(url=url, html=html, outlet=spec)
    except OutletError:
        page = GenericArticlePage(url, html)
    article = NormalizePipeline().process_item(page.to_article())
    return Extracted(article.title, article.published, article.modified, article.authors, article.region, article.body)


def generic_extract(url: str, html: bytes) -> Extracted:
    """newsdesk's generic fallback alone, as for a domain no outlet spec knows."""
    article = NormalizePipeline().process_item(GenericArticlePage(url, html).to_article())
    return Extracted(article.title, article.published, article.modified, article.authors, article.region, article.body)


def trafilatura_extract(url: str, html: bytes) -> Extracted:
    text, _ = decode_html(html)
    with warnings.catch_warnings():  # trafilatura 2.x's own FutureWarning about lxml truth tests
        warnings.simplefilter("ignore", FutureWarning)
        doc = trafilatura.bare_extraction(text, url=url, with_metadata=True, include_comments=False, include_tables=False)
    if doc is None:
        return Extracted(None, None, None, [], None, "")
    published = None
    if doc.date:
        published = parse_iso_datetime(doc.date)
    authors: list[str] = []
    for raw in (doc.author or "").replace(",", ";").split(";"):
        raw = raw.strip()
        byline = parse_byline(raw) or parse_byline(f"{raw} 기자") if raw else None
        authors.extend(a for a in (byline.authors if byline else []) if a not in authors)
    return Extracted(doc.title, published, None, authors, None, doc.text or "")


def score(system: str, cases: list[tuple[Path, Path]], extractor: Callable[[str, bytes], Extracted]) -> SystemScore:
    results: list[PageResult] = []
    for html_path, json_path in cases:
        url, expected = load_expected(json_path)
        html = read_page(html_path)
        started = time.perf_counter()
        got = extractor(url, html)
        ms = (time.perf_counter() - started) * 1000
        correct, wrong = compare(expected, got)
        p, r, f1 = body_scores(expected.get("body") or "", got.body) if "body" in expected else (1.0, 1.0, 1.0)
        if f1 < 1.0:
            wrong["body"] = {"precision": round(p, 4), "recall": round(r, 4)}
        name = str(html_path.with_suffix(""))
        results.append(PageResult(name, url, correct, p, r, f1, ms, wrong))
    accuracy = {
        name: mean(res.correct[name] for res in results if name in res.correct)
        for name in FIELDS
        if any(name in res.correct for res in results)
    }
    all_checks = [ok for res in results for name, ok in res.correct.items() if name != "published_day"]
    return SystemScore(
        system=system,
        pages=len(results),
        accuracy=accuracy,
        field_accuracy=mean(all_checks) if all_checks else 0.0,
        body_precision=mean(r.body_precision for r in results) if results else 0.0,
        body_recall=mean(r.body_recall for r in results) if results else 0.0,
        body_f1=mean(r.body_f1 for r in results) if results else 0.0,
        ms_per_page=mean(r.ms for r in results) if results else 0.0,
        results=results,
    )


def evaluate(folder: Path) -> list[SystemScore]:
    cases = find_cases(folder)
    if not cases:
        unchecked = len(find_cases(folder, checked=False))
        if unchecked:
            raise ValueError(f"{folder}: {unchecked} page(s), none checked by hand yet (\"checked\": false in the JSON)")
        raise ValueError(f"{folder}: no <name>.html + <name>.json pairs found")
    # warm both up once so one-time costs (the outlet registry, page templates, the first
    # parse) are not charged to the first page
    for _html, json_path in cases:  # every case's JSON checked before seconds of scoring
        load_expected(json_path)
    url, _ = load_expected(cases[0][1])
    newsdesk_extract(url, read_page(cases[0][0]))
    trafilatura_extract(url, read_page(cases[0][0]))
    return [
        score("newsdesk", cases, newsdesk_extract),
        score("generic only", cases, generic_extract),
        score("trafilatura", cases, trafilatura_extract),
    ]


def to_json(scores: list[SystemScore]) -> str:
    return json.dumps([asdict(s) for s in scores], ensure_ascii=False, indent=2, default=str)
