"""The Article item: one news article as one outlet printed it at one moment.

A dataclass (itemadapter handles it) rather than a scrapy.Item so page objects, pipelines and
tests share one typed shape without importing Scrapy. Datetimes are aware (Asia/Seoul when they
come from the page); the store converts them to UTC BSON dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any


@dataclass
class Image:
    """A photo printed with the article: absolute `src` and its caption (never body text)."""

    src: str
    caption: str | None = None


@dataclass
class PrintEdition:
    """Where the story ran in the paper edition (중도일보 `신문게재 2019-08-26 3면`)."""

    date: str  # ISO date, YYYY-MM-DD, Korea time
    page: int | None = None


@dataclass
class Article:
    """One article. Field names are the stored document's field names (docs/schema.md later)."""

    outlet: str  # outlet id from crawler/outlets (e.g. "joongdo")
    url: str  # where the article was fetched, on the outlet's real host (crawls request the canonical form)
    canonical_url: str  # the one URL that identifies the article (unique in `articles`)
    title: str
    body: str  # paragraph text only, paragraphs separated by a blank line
    subtitle: str | None = None
    sections: list[str] = field(default_factory=list)  # outlet's section path, broad to narrow
    published: datetime | None = None  # first publication (승인/입력/등록), aware
    modified: datetime | None = None  # last correction (수정/업데이트), aware; never = published by default
    print_edition: PrintEdition | None = None
    authors: list[str] = field(default_factory=list)  # reporter names, no titles or emails
    region: str | None = None  # dateline region (`세종=` in `세종=오희룡 기자`)
    wire: str | None = None  # wire source when printed (뉴시스, 연합뉴스, 뉴스1, 보도자료)
    # Set by the places pipeline (crawler.text.places): the 시도/시군구 the article is about,
    # most trusted first, [{sido, sido_code, sigungu, sigungu_code, source}], and the flat,
    # indexed lists of their official names (시군구 with its 시도: "충청남도 공주시").
    places: list[dict[str, Any]] = field(default_factory=list)
    sido: list[str] = field(default_factory=list)
    sigungu: list[str] = field(default_factory=list)
    places_version: int | None = None  # crawler.text.places.VERSION that set them
    images: list[Image] = field(default_factory=list)
    # Which method produced each field ("selector", "meta", "jsonld", "text"): the early sign
    # of a site change is a field that stops coming from its selector.
    provenance: dict[str, str] = field(default_factory=dict)
    # Filled by pipelines, not page objects.
    body_hash: str | None = None  # the body alone, whitespace-free (exact duplicates)
    content_hash: str | None = None  # every content field (the store rewrites on change)
    story_id: str | None = None  # shared by every copy of one story across outlets (dedup)
    story_similarity: float | None = None  # estimated containment in the closest earlier copy
    story_closest: str | None = None  # canonical URL of that closest earlier copy
    minhash: bytes | None = None  # the story signature, kept so the index can be rebuilt
    story_shingles: int | None = None  # shingle count of the story text (containment estimate)
    story_numbers: list[str] = field(default_factory=list)  # numbers the story prints
    alias_of: str | None = None  # same body as this stored article of the outlet: an alias URL
    extra: dict[str, Any] = field(default_factory=dict)

    # Not a field (typed by a comment, which dataclasses do not read): pipeline work the parse
    # worker did ahead, step name -> crawler.prepare.Prepared (not imported here: crawler.prepare
    # imports this module). Set on the instance, so it crosses the worker's pipe with the
    # article; never stored, never an item field.
    preparation = None  # type: dict[str, Any] | None


_SCALARS = (str, int, float, bool, bytes, datetime, type(None))


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple, set)):
        return value.__class__(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    from itemadapter import ItemAdapter  # late: importing itemadapter imports Scrapy, which page parsing never needs

    return ItemAdapter(value).asdict() if ItemAdapter.is_item(value) else value


def item_dict(item: Any) -> dict[str, Any]:
    """The item as plain dicts and lists (what ItemAdapter(item).asdict() returns).

    For an Article the fields are walked directly: itemadapter asks every nested value which
    item type it is, a cost paid on every article (bench/stages_bench.py times the stages)."""
    if isinstance(item, Article):
        return {f.name: _plain(getattr(item, f.name)) for f in _ARTICLE_FIELDS}
    from itemadapter import ItemAdapter  # late: see _plain

    return ItemAdapter(item).asdict()


_ARTICLE_FIELDS = fields(Article)

