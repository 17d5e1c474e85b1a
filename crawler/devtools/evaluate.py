"""`newsdesk evaluate DIR`: how well extraction does on pages with hand-checked answers.

DIR holds `<name>.html` + `<name>.json` pairs (searched recursively); the JSON has the page's
`url` and its expected fields, either under "expected" or at the top level. Pairs whose JSON
says `"checked": false` (not read against the page by hand yet) are left out. Pages fall in two
groups, reported apart:
- "own": pages of a configured outlet (the URL's domain is in crawler/outlets/outlets.toml),
  the outlets' own fixtures;
- "unseen": pages of any other site (tests/fixtures/unseen/), what newsdesk meets on a site
  it was never configured for.

Each group is scored by three systems on the same pages, in the same run:
- "newsdesk": what newsdesk does with the page: the outlet's page object (template + generic
  fallback) for an outlet's page, the path of `newsdesk extract` for an unknown domain;
- "generic only": newsdesk's generic fallback (JSON-LD, meta, printed labels, densest block,
  trafilatura) with no outlet template, for every page;
- "trafilatura": trafilatura alone (`bare_extraction` with metadata).

Scores, per group and system:
- field accuracy: title, published, modified, authors, region compare exactly (whitespace
  normalized; datetimes as instants; modified null means the page was never updated);
  published_day is published to the day (trafilatura gives dates to the day) and is not
  counted in the overall figure. Three body checks count as fields too: body_start (the
  extracted body, whitespace normalized, begins with the expected first sentence), body_end
  (it ends with the expected last sentence) and no_chrome (none of the expected
  `must_not_contain` strings, which are printed on the page, appears in it). A field the
  page's JSON does not state is not scored for that page. "field accuracy (all)" is the mean
  of every scored check but published_day.
- body precision, recall and F1 at character level: both texts whitespace normalized (runs
  of whitespace are one space), the characters of the matching blocks that difflib's
  SequenceMatcher finds between them count as matched; precision = matched / extracted
  length, recall = matched / expected length, F1 their harmonic mean; macro-averaged over
  the pages that state a body.
- milliseconds per page (wall clock of the extraction, the page already read).
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

FIELDS = ("title", "published", "published_day", "modified", "authors", "region", "body_start", "body_end", "no_chrome")
GROUPS = ("own", "unseen")
DATE_FIELDS = ("published", "modified")


@dataclass
class Extracted:
    title: str | None
    published: datetime | None
    modified: datetime | None
    authors: list[str]
    region: str | None
    body: str


@dataclass
class Case:
    """One hand-checked page: where it is, its URL, its group and its expected fields."""

    html: Path
    json: Path
    url: str
    group: str
    expected: dict[str, Any]


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
    group: str
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
    """The page's URL and expected fields, or ValueError naming the file and what is wrong."""
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
    for name in DATE_FIELDS:
        value = expected.get(name)
        if value is not None and (not isinstance(value, str) or _as_dt(value) is None):
            raise ValueError(f"{path}: \"{name}\" {value!r} is not an ISO 8601 datetime (or null)")
    for name in ("authors", "must_not_contain"):
        value = expected.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise ValueError(f"{path}: \"{name}\" must be a list of strings")
    for name in ("title", "region", "body", "body_start", "body_end"):
        value = expected.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{path}: \"{name}\" must be a string (or null)")
    return url, expected


def group_of(url: str) -> str:
    """"own" for a configured outlet's page, "unseen" for any other site's."""
    try:
        outlet_for_url(url)
    except (OutletError, ValueError):
        return "unseen"
    return "own"


def load_cases(folder: Path) -> list[Case]:
    """Every pair under `folder`, each JSON checked, or ValueError naming the first bad one."""
    pairs = find_cases(folder)
    if not pairs:
        unchecked = len(find_cases(folder, checked=False))
        if unchecked:
            raise ValueError(f"{folder}: {unchecked} page(s), none checked by hand yet (\"checked\": false in the JSON)")
        raise ValueError(f"{folder}: no <name>.html + <name>.json pairs found")
    cases = []
    for html, js in pairs:
        url, expected = load_expected(js)
        cases.append(Case(html, js, url, group_of(url), expected))
    return cases


def read_page(path: Path) -> bytes:
    """A case's saved HTML, or ValueError naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def body_scores(expected: str, got: str) -> tuple[float, float, float]:
    """Character-level precision, recall and F1 of `got` against `expected` (module docstring)."""
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
    """Which stated fields `got` has right, and for each wrong one what was expected and got."""
    correct: dict[str, bool] = {}
    wrong: dict[str, Any] = {}
    exp_pub, exp_mod = _as_dt(expected.get("published")), _as_dt(expected.get("modified"))
    body = _norm(got.body)
    checks: dict[str, tuple[Any, Any]] = {
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
    stated = {("published" if name == "published_day" else name) for name in checks} & set(expected)
    for name, (want, have) in checks.items():
        if ("published" if name == "published_day" else name) not in stated:
            continue  # the page states no expectation for this field
        correct[name] = want == have
        if not correct[name]:
            wrong[name] = {"expected": str(want), "got": str(have)}
    if expected.get("body_start"):
        start = _norm(expected["body_start"])
        correct["body_start"] = body.startswith(start)
        if not correct["body_start"]:
            wrong["body_start"] = {"expected": start, "got": body[: len(start) + 20]}
    if expected.get("body_end"):
        end = _norm(expected["body_end"])
        correct["body_end"] = body.endswith(end)
        if not correct["body_end"]:
            wrong["body_end"] = {"expected": end, "got": body[-(len(end) + 20):]}
    if "must_not_contain" in expected:
        found = [s for s in expected["must_not_contain"] if _norm(s) and _norm(s) in body]
        correct["no_chrome"] = not found
        if found:
            wrong["no_chrome"] = {"found": found}
    return correct, wrong


def _from_article(article: Any) -> Extracted:
    return Extracted(article.title, article.published, article.modified, article.authors, article.region, article.body)


def newsdesk_extract(url: str, html: bytes) -> Extracted:
    """What newsdesk does with the page: its outlet's page object, or generic for an unknown domain."""
    try:
        spec = outlet_for_url(url)
        page: Any = spec.page_class()(url=url, html=html, outlet=spec)
    except OutletError:
        page = GenericArticlePage(url, html)
    return _from_article(NormalizePipeline().process_item(page.to_article()))


def generic_extract(url: str, html: bytes) -> Extracted:
    """newsdesk's generic fallback alone, as for a domain no outlet spec knows."""
    return _from_article(NormalizePipeline().process_item(GenericArticlePage(url, html).to_article()))


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


SYSTEMS: tuple[tuple[str, Callable[[str, bytes], Extracted]], ...] = (
    ("newsdesk", newsdesk_extract),
    ("generic only", generic_extract),
    ("trafilatura", trafilatura_extract),
)


def score(system: str, cases: list[Case], extractor: Callable[[str, bytes], Extracted], group: str = "") -> SystemScore:
    results: list[PageResult] = []
    for case in cases:
        html = read_page(case.html)
        started = time.perf_counter()
        got = extractor(case.url, html)
        ms = (time.perf_counter() - started) * 1000
        correct, wrong = compare(case.expected, got)
        has_body = "body" in case.expected
        p, r, f1 = body_scores(case.expected.get("body") or "", got.body) if has_body else (1.0, 1.0, 1.0)
        if f1 < 1.0:
            wrong["body"] = {"precision": round(p, 4), "recall": round(r, 4)}
        results.append(PageResult(str(case.html.with_suffix("")), case.url, correct, p, r, f1, ms, wrong))
    accuracy = {
        name: mean(res.correct[name] for res in results if name in res.correct)
        for name in FIELDS
        if any(name in res.correct for res in results)
    }
    all_checks = [ok for res in results for name, ok in res.correct.items() if name != "published_day"]
    with_body = [res for res, case in zip(results, cases) if "body" in case.expected]
    return SystemScore(
        group=group,
        system=system,
        pages=len(results),
        accuracy=accuracy,
        field_accuracy=mean(all_checks) if all_checks else 0.0,
        body_precision=mean(r.body_precision for r in with_body) if with_body else 0.0,
        body_recall=mean(r.body_recall for r in with_body) if with_body else 0.0,
        body_f1=mean(r.body_f1 for r in with_body) if with_body else 0.0,
        ms_per_page=mean(r.ms for r in results) if results else 0.0,
        results=results,
    )


def evaluate(folder: Path) -> list[SystemScore]:
    """Every system on every group that has pages under `folder`: own first, then unseen."""
    cases = load_cases(folder)  # every case's JSON checked before seconds of scoring
    # warm every system up once so one-time costs (the outlet registry, page templates, the
    # first parse) are not charged to the first page
    first = read_page(cases[0].html)
    for _name, extractor in SYSTEMS:
        extractor(cases[0].url, first)
    scores = []
    for group in GROUPS:
        members = [case for case in cases if case.group == group]
        if members:
            scores.extend(score(name, members, extractor, group) for name, extractor in SYSTEMS)
    return scores


def to_json(scores: list[SystemScore]) -> str:
    return json.dumps([asdict(s) for s in scores], ensure_ascii=False, indent=2, default=str)
