"""What each route answers, as response models: the API returns them, the pages render them."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from fastapi import HTTPException
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from crawler import status
from crawler.outlets import canonical_url_of, registry
from crawler.search import Filters, SearchError, day_range
from crawler.search import search as run_search
from crawler.search.engine import SORTS
from crawler.search.export import export_limited
from crawler.search.facets import KINDS as FACET_KINDS
from crawler.store import Database, RunStore, reads
from crawler.store.stories import StoryMergeStore
from crawler.text.dates import KST
from crawler.web.models import (
    ArticleDetail,
    ArticleList,
    ArticleSummary,
    CheckVerdict,
    DayCount,
    HealthResponse,
    NamedCount,
    Outlet,
    PlacesResponse,
    Revision,
    RevisionList,
    Run,
    RunDetail,
    RunList,
    SearchResponse,
    Story,
    Stored,
    StoryCopy,
    VolumeResponse,
    kst,
)
from crawler.search.stats import place_counts
from crawler.web.params import (
    LIST_DEFAULT_DAYS,
    LIST_MAX_DAYS,
    RUNS_DEFAULT_DAYS,
    RUNS_MAX_DAYS,
    VOLUME_DEFAULT_DAYS,
    VOLUME_MAX_DAYS,
    ParamError,
    Window,
    check_outlets,
    check_places,
    cursor,
    day_start,
    optional_range,
    window,
)
from crawler.web.render import query
from crawler.web.volume import VolumeCache
from crawler.web.volume import volume as count_volume


@cache
def outlet_names() -> dict[str, str]:
    """Outlet id -> Korean name, from the registry (outlets.toml)."""
    return {name: spec.name_ko for name, spec in registry().items()}


def outlet_list() -> list[Outlet]:
    return [Outlet(name=s.name, name_ko=s.name_ko, region=s.region, verified=s.verified,
                   unverified=None if s.verified else (s.unverified or "no saved page named")) for s in registry().values()]


SPAN_TTL = 60.0  # seconds an empty window's "what the database holds" is kept
_spans: dict[tuple[Any, ...], tuple[float, reads.PublishedSpan]] = {}
_spans_lock = threading.Lock()


def published_span(db: Database[Any], outlets: tuple[str, ...] = (), regions: tuple[str, ...] = (),
                   sections: tuple[str, ...] = ()) -> reads.PublishedSpan:
    """reads.published_span, kept a minute: a stale database would otherwise look it up on
    every view of an empty default window."""
    key = (db.name, outlets, regions, sections)
    with _spans_lock:
        entry = _spans.get(key)
        if entry is not None and time.monotonic() - entry[0] < SPAN_TTL:
            return entry[1]
    span = reads.published_span(db, outlets=outlets, regions=regions, sections=sections)
    with _spans_lock:
        if len(_spans) > 256:
            _spans.clear()
        _spans[key] = (time.monotonic(), span)
    return span


def stored(span: reads.PublishedSpan) -> Stored:
    def day(value: datetime | None) -> date | None:
        return value.astimezone(KST).date() if value else None

    return Stored(articles=span.stored, oldest=day(span.oldest), newest=day(span.newest))


def with_story_outlets(db: Database[Any], items: list[Any]) -> None:
    """Sets `story_outlets` on the items that have a story: one read for the whole page."""
    counts = reads.story_outlets(db, [i.story_id for i in items if i.story_id])
    for item in items:
        if item.story_id:
            item.story_outlets = counts.get(item.story_id)


def search_filters(outlet: list[str], region: list[str], section: list[str],
                   since: date | None, until: date | None,
                   places: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> Filters:
    outlets = check_outlets(outlet, outlet_names())
    since, until = optional_range(since, until)
    start, end = day_range(since, until)
    return Filters(outlets=outlets, regions=tuple(region), sections=tuple(section), since=start, until=end,
                   sidos=places[0], sigungus=places[1])


def search(
    db: Database[Any], q: str, outlet: list[str], region: list[str], section: list[str],
    since: date | None, until: date | None, page: int, per_page: int,
    sort: str = "relevance", facets: bool = False, split: str | None = None,
    *, places: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> SearchResponse:
    filters = search_filters(outlet, region, section, since, until, places)
    if sort not in SORTS:
        raise ParamError("sort", f"{sort!r}: expected one of {', '.join(SORTS)}")
    if split is not None and split not in FACET_KINDS:
        raise ParamError("by", f"{split!r}: expected one of {', '.join(FACET_KINDS)}")
    try:
        result = run_search(db, q, filters, page=page, per_page=per_page, sort=sort, facets=facets, split=split)
    except SearchError as exc:
        raise ParamError("q", str(exc)) from None
    response = SearchResponse.of(result, outlet_names())
    response.sort = sort
    with_story_outlets(db, response.hits)
    return response


DOWNLOAD_MAX = 10_000  # rows of one "download these results"; `newsdesk export --query` has no cap


def download(db: Database[Any], q: str, fmt: str, outlet: list[str], region: list[str], section: list[str],
             since: date | None, until: date | None,
             places: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> FileResponse:
    """The matching articles as a file (export's fields and writers), written to a temporary
    file that is removed once sent."""
    filters = search_filters(outlet, region, section, since, until, places)
    handle = tempfile.NamedTemporaryFile(prefix="newsdesk-", suffix=f".{fmt}", delete=False)
    handle.close()
    path = Path(handle.name)
    try:
        rows, truncated = export_limited(db, filters, fmt, path, bom=fmt == "csv", query=q, limit=DOWNLOAD_MAX)
    except SearchError as exc:
        path.unlink(missing_ok=True)
        raise ParamError("q", str(exc)) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    stamp = datetime.now(KST).strftime("%Y%m%d-%H%M")
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return FileResponse(path, media_type=media, filename=f"newsdesk-search-{stamp}.{fmt}",
                        headers={"X-Newsdesk-Rows": str(rows), "X-Newsdesk-Truncated": "true" if truncated else "false"},
                        background=BackgroundTask(path.unlink, missing_ok=True))


def browse(
    db: Database[Any], outlet: list[str], region: list[str], section: list[str],
    since: date | None, until: date | None, per_page: int, before: str | None,
    *, places: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> ArticleList:
    outlets = check_outlets(outlet, outlet_names())
    span = window(since, until, default_days=LIST_DEFAULT_DAYS, max_days=LIST_MAX_DAYS)
    page_cursor = cursor(before, object_id=True)

    def read(span: Window) -> tuple[list[dict[str, Any]], Any]:
        return reads.list_articles(
            db, since=day_start(span.since), until=day_start(span.until + timedelta(days=1)),
            outlets=outlets, regions=region, sections=section, limit=per_page, cursor=page_cursor,
            sidos=places[0], sigungus=places[1],
        )

    docs, next_page = read(span)
    moved, held = False, None
    if not docs and page_cursor is None:
        data = published_span(db, outlets, tuple(region), tuple(section))
        held = stored(data)
        if since is None and until is None and held.newest is not None and held.newest < span.since:
            span, moved = Window(held.newest - timedelta(days=LIST_DEFAULT_DAYS - 1), held.newest), True
            docs, next_page = read(span)
    names = outlet_names()
    listing = ArticleList(since=span.since, until=span.until, articles=[ArticleSummary.of(d, names) for d in docs],
                          next=next_page.encode() if next_page else None, window_moved=moved, stored=held)
    with_story_outlets(db, listing.articles)
    return listing


def _found(doc: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if doc is None:
        raise HTTPException(404, f"no stored article {what}")
    return doc


def article(db: Database[Any], article_id: str) -> ArticleDetail:
    return ArticleDetail.of(_found(reads.article_by_id(db, article_id), f"with id {article_id}"), outlet_names())


def article_by_url(db: Database[Any], url: str) -> ArticleDetail:
    doc = reads.article_by_url(db, url)
    if doc is None and url.startswith(("http://", "https://")):
        try:
            doc = reads.article_by_url(db, canonical_url_of(url))
        except Exception:  # noqa: BLE001 - an unknown domain is simply not stored
            doc = None
    return ArticleDetail.of(_found(doc, f"at {url}"), outlet_names())


def revisions(db: Database[Any], article_id: str) -> RevisionList:
    doc = _found(reads.article_by_id(db, article_id), f"with id {article_id}")
    earlier = reads.revisions_of(db, doc["canonical_url"])
    return RevisionList(id=article_id, canonical_url=doc["canonical_url"], current_revision=int(doc.get("revision") or 0),
                        revisions=[Revision.of(r) for r in earlier])


def story(db: Database[Any], story_id: str) -> Story:
    merges = StoryMergeStore(db)
    current = merges.resolve(story_id)
    copies = reads.story_copies(db, current)
    if not copies:
        raise HTTPException(404, f"no story {story_id}")
    names = outlet_names()
    return Story(story_id=current, requested_id=story_id if current != story_id else None,
                 merged_ids=merges.merged_ids(current), outlets=len({c.get("outlet") for c in copies}),
                 copies=[StoryCopy.of(c, names) for c in copies])


def volume(
    db: Database[Any], cache_: VolumeCache, outlet: list[str], region: list[str],
    since: date | None, until: date | None,
) -> VolumeResponse:
    outlets = check_outlets(outlet, outlet_names())
    span = window(since, until, default_days=VOLUME_DEFAULT_DAYS, max_days=VOLUME_MAX_DAYS)
    counts = count_volume(db, span.since, span.until, outlets=outlets, regions=region, cache=cache_)
    moved, held = False, None
    if counts.total == 0:
        held = stored(published_span(db, outlets, tuple(region)))
        if since is None and until is None and held.newest is not None and held.newest < span.since:
            span, moved = Window(held.newest - timedelta(days=VOLUME_DEFAULT_DAYS - 1), held.newest), True
            counts = count_volume(db, span.since, span.until, outlets=outlets, regions=region, cache=cache_)
    names = outlet_names()
    return VolumeResponse(
        since=span.since, until=span.until, total=counts.total, window_moved=moved, stored=held,
        by_day=[DayCount(day=d, articles=n) for d, n in counts.by_day],
        by_outlet=[NamedCount(name=o, label=names.get(o), articles=n) for o, n in counts.by_outlet],
        by_region=[NamedCount(name=r, articles=n) for r, n in counts.by_region],
    )


PLACES_DEFAULT_DAYS = 30
PLACES_MAX_DAYS = 366


def places(db: Database[Any], outlet: list[str], sido: list[str], since: date | None,
           until: date | None) -> PlacesResponse:
    """Articles per 시도 and 시군구 in the window; an empty default window moves to the 30 days
    ending at the newest stored article, as /volume does."""
    outlets = check_outlets(outlet, outlet_names())
    sidos, _none = check_places(sido, [])
    span = window(since, until, default_days=PLACES_DEFAULT_DAYS, max_days=PLACES_MAX_DAYS)

    def count(span: Window) -> Any:
        start, end = day_range(span.since, span.until)
        return place_counts(db, Filters(outlets=outlets, sidos=sidos, since=start, until=end))

    counts = count(span)
    moved, held = False, None
    if counts.total == 0:
        held = stored(published_span(db, outlets))
        if since is None and until is None and held.newest is not None and held.newest < span.since:
            span, moved = Window(held.newest - timedelta(days=PLACES_DEFAULT_DAYS - 1), held.newest), True
            counts = count(span)
    response = PlacesResponse.of(counts, span.since, span.until)
    response.window_moved, response.stored = moved, held
    return response


def runs(
    db: Database[Any], outlet: str | None, failed: bool, since: date | None, until: date | None,
    per_page: int, before: str | None,
) -> RunList:
    if outlet:
        check_outlets([outlet], outlet_names())
    span = window(since, until, default_days=RUNS_DEFAULT_DAYS, max_days=RUNS_MAX_DAYS)
    docs, next_page = RunStore(db).page(
        since=day_start(span.since), until=day_start(span.until + timedelta(days=1)),
        outlet=outlet or None, failed=failed, limit=per_page, cursor=cursor(before, object_id=False),
    )
    return RunList(since=span.since, until=span.until, runs=[Run.of(d) for d in docs],
                   next=next_page.encode() if next_page else None)


def health(db: Database[Any]) -> HealthResponse:
    response = HealthResponse.of(status.health(db))
    specs = registry()
    for row in response.outlets:
        row.verified = specs[row.outlet].verified if row.outlet in specs else None
    response.search_queue = status.search_queue_pending(db)
    response.database = db.name
    code, line = status.check(db)
    response.check = CheckVerdict(code=code, name=status.CHECK_NAMES[code], status=line)
    return response


def run_detail(db: Database[Any], run_id: str) -> RunDetail:
    """One run in full (crawler.status.run_detail): 422 for an id that cannot be one, 404 for
    one no run has."""
    try:
        doc = status.run_detail(db, run_id)
    except status.RunIdError as exc:
        raise ParamError("run_id", str(exc)) from None
    if doc is None:
        raise HTTPException(404, f"no run {run_id} in database {db.name}")
    window = doc.get("articles_window") or {}
    link = None
    if window.get("outlet") and window.get("since") is not None:
        days = [kst(window["since"]), kst(window.get("until") or window["since"])]
        link = "/" + query({"outlet": window["outlet"], "since": days[0].date(), "until": days[1].date()})
    return RunDetail.detail(doc, db.name, link)

