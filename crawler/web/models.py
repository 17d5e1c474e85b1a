"""Response models of the JSON API, and their construction from stored documents.

Datetimes go out as ISO 8601 in Korea time (+09:00), the way analysts read them; text goes
out as stored (JSON needs no HTML escaping; the pages escape it). Search snippets are
segments, {"text", "highlight"}, never markup.

Why one module: every response model is built from stored documents with the same few
helpers (Korea time, text and list coercion, the article summary's fields), and together
they are the API's one schema namespace (/api/openapi.json): split, the helpers would be
shared across modules and names could collide unseen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from crawler.text.dates import KST


def kst(value: Any) -> datetime | None:
    return value.astimezone(KST) if isinstance(value, datetime) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


class Outlet(BaseModel):
    name: str = Field(description="Outlet id, the stored `outlet` value")
    name_ko: str
    region: str = Field(description="시/도 the outlet covers")
    verified: bool = Field(description="A saved real page of the outlet backs its spec (tests/fixtures)")
    unverified: str | None = Field(None, description="Why no saved page backs the spec yet (null when verified)")


class Segment(BaseModel):
    text: str
    highlight: bool = Field(description="True for (part of) a match of the query")


class ArticleSummary(BaseModel):
    id: str = Field(description="Article id: GET /api/articles/{id}")
    outlet: str
    outlet_name: str | None = None
    title: str
    subtitle: str | None = None
    published: datetime | None = None
    region: str | None = Field(None, description="The dateline's place (세종 in 세종=홍길동 기자)")
    sido: list[str] = Field([], description="시도 the article is about (official names); see `places` of one article")
    sigungu: list[str] = Field([], description="시군구 the article is about, with their 시도: 충청남도 공주시")
    sections: list[str] = []
    authors: list[str] = []
    url: str | None = None
    canonical_url: str
    story_id: str | None = None
    story_outlets: int | None = Field(None, description="How many outlets carried its story (lists and search hits)")
    revision: int = Field(0, description="How many times the article was seen changed")

    @classmethod
    def of(cls, doc: dict[str, Any], names: dict[str, str]) -> "ArticleSummary":
        return cls(**_summary_fields(doc, names))


def _summary_fields(doc: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    outlet = str(doc.get("outlet") or "")
    return {
        "id": str(doc.get("_id", doc.get("id", ""))), "outlet": outlet, "outlet_name": names.get(outlet),
        "title": str(doc.get("title") or ""), "subtitle": _str(doc.get("subtitle")),
        "published": kst(doc.get("published")), "region": _str(doc.get("region")),
        "sections": _strs(doc.get("sections")), "authors": _strs(doc.get("authors")),
        "url": _str(doc.get("url")), "canonical_url": str(doc.get("canonical_url") or ""),
        "story_id": _str(doc.get("story_id")), "revision": int(doc.get("revision") or 0),
        "sido": _strs(doc.get("sido")), "sigungu": _strs(doc.get("sigungu")),
    }


class Stored(BaseModel):
    """What the database holds, told when a window is empty (or was moved) instead of nothing."""

    articles: int = Field(description="Articles stored in the database (all outlets; an estimate)")
    oldest: date | None = Field(None, description="Korea-time day of the oldest article matching the filters")
    newest: date | None = Field(None, description="Korea-time day of the newest article matching the filters")


WINDOW_MOVED = ("The default window (ending today) held no article, so this one ends at the newest stored "
                "article's day")


class ArticleList(BaseModel):
    since: date
    until: date
    articles: list[ArticleSummary]
    next: str | None = Field(None, description="Pass as `before` for the next (older) page; null on the last")
    window_moved: bool = Field(False, description=WINDOW_MOVED)
    stored: Stored | None = Field(None, description="When the window is empty or was moved: what the database holds")


class SearchHit(ArticleSummary):
    score: float
    title_segments: list[Segment]
    snippets: list[list[Segment]]


class PrintEdition(BaseModel):
    date: str | None = Field(None, description="The print issue's day, YYYY-MM-DD")
    page: int | None = Field(None, description="The 지면 page number, when the outlet gives it")

    @classmethod
    def of(cls, value: Any) -> "PrintEdition | None":
        if not isinstance(value, dict) or not (value.get("date") or value.get("page")):
            return None
        day = value.get("date")
        return cls(date=day.isoformat()[:10] if isinstance(day, (date, datetime)) else _str(day),
                   page=_page(value.get("page")))


def _page(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class DayCount(BaseModel):
    day: date
    articles: int


class FacetCount(BaseModel):
    value: str
    articles: int


class SearchFacets(BaseModel):
    """Counts of the matching articles (all pages), estimated like `total` when not exact."""

    exact: bool
    bucket: str = Field(description='"day", or "month" when the matches span more than ten years')
    outlet: list[FacetCount]
    region: list[FacetCount]
    section: list[FacetCount]
    days: list[DayCount] = Field(description="Every day (or month) from the first match to the last, Korea time")
    split_by: str | None = Field(None, description="With a trend: the facet the counts are split by")
    split: dict[str, list[int]] = Field(default_factory=dict, description="Per value of split_by: counts per entry of days")

    @classmethod
    def of(cls, facets: Any) -> "SearchFacets":
        return cls(
            exact=facets.exact, bucket=facets.bucket,
            outlet=[FacetCount(value=v, articles=n) for v, n in facets.outlet],
            region=[FacetCount(value=v, articles=n) for v, n in facets.region],
            section=[FacetCount(value=v, articles=n) for v, n in facets.section],
            days=[DayCount(day=d, articles=n) for d, n in facets.days],
            split_by=facets.split_by, split=facets.split,
        )


class SearchResponse(BaseModel):
    query: str
    words: list[str]
    phrases: list[str]
    total: int = Field(description="Matching articles (exact when total_exact)")
    total_exact: bool
    page: int
    per_page: int
    pages: int
    took_ms: float
    sort: str = "relevance"
    hits: list[SearchHit]
    facets: SearchFacets | None = None

    @classmethod
    def of(cls, result: Any, names: dict[str, str]) -> "SearchResponse":
        hits = []
        for hit in result.hits:
            doc = {"_id": hit.id, "outlet": hit.outlet, "title": hit.title, "published": hit.published,
                   "region": hit.region, "sections": hit.sections, "authors": hit.authors, "url": hit.url,
                   "canonical_url": hit.canonical_url, "story_id": hit.story_id}
            hits.append(SearchHit(
                **_summary_fields(doc, names), score=round(float(hit.score), 4),
                title_segments=[Segment(text=s.text, highlight=s.highlight) for s in hit.title_segments],
                snippets=[[Segment(text=s.text, highlight=s.highlight) for s in snippet] for snippet in hit.snippets],
            ))
        return cls(
            query=result.query, words=list(result.parsed.words), phrases=list(result.parsed.phrases),
            total=result.total, total_exact=result.total_exact, page=result.page, per_page=result.per_page,
            pages=result.pages, took_ms=round(result.took_ms, 1), hits=hits,
            facets=SearchFacets.of(result.facets) if result.facets is not None else None,
        )


class Image(BaseModel):
    src: str
    caption: str | None = None


class PlaceModel(BaseModel):
    sido: str
    sido_code: str = Field(description="법정동 code of the 시도, two digits")
    sigungu: str | None = None
    sigungu_code: str | None = Field(None, description="법정동 code of the 시군구, five digits")
    source: str = Field(description="Where it was read: dateline, title, lead, or outlet (the outlet's home "
                                    "region, when the text names no place)")


def _places(value: Any) -> list[PlaceModel]:
    out = []
    for place in value or []:
        if isinstance(place, dict) and place.get("sido") and place.get("sido_code"):
            out.append(PlaceModel(sido=str(place["sido"]), sido_code=str(place["sido_code"]),
                                  sigungu=_str(place.get("sigungu")), sigungu_code=_str(place.get("sigungu_code")),
                                  source=str(place.get("source") or "")))
    return out


class ArticleDetail(ArticleSummary):
    places: list[PlaceModel] = Field([], description="The 시도 and 시군구 it is about, most trusted first")
    body: str
    modified: datetime | None = None
    modified_detected: bool = Field(False, description="modified is when a change was seen (the page printed none)")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    aliases: list[str] = []
    images: list[Image] = []
    wire: str | None = None
    print_edition: PrintEdition | None = Field(None, description="Where it ran in the print edition (지면), if it did")
    story_similarity: float | None = Field(None, description="Similarity to the closest earlier copy of its story")
    story_closest: str | None = None

    @classmethod
    def of(cls, doc: dict[str, Any], names: dict[str, str]) -> "ArticleDetail":
        images = []
        for image in doc.get("images") or []:
            if isinstance(image, dict) and image.get("src"):
                images.append(Image(src=str(image["src"]), caption=_str(image.get("caption"))))
        similarity = doc.get("story_similarity")
        return cls(
            **_summary_fields(doc, names), body=str(doc.get("body") or ""), modified=kst(doc.get("modified")),
            modified_detected=bool(doc.get("modified_detected")), first_seen=kst(doc.get("first_seen")),
            last_seen=kst(doc.get("last_seen")), aliases=_strs(doc.get("aliases")), images=images,
            wire=_str(doc.get("wire")), print_edition=PrintEdition.of(doc.get("print_edition")),
            story_similarity=float(similarity) if isinstance(similarity, (int, float)) else None,
            story_closest=_str(doc.get("story_closest")), places=_places(doc.get("places")),
        )


class Revision(BaseModel):
    revision: int = Field(description="0 is the first stored version")
    replaced_at: datetime | None = Field(None, description="When a recrawl found it changed")
    title: str
    subtitle: str | None = None
    body: str
    authors: list[str] = []
    modified: datetime | None = None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> "Revision":
        return cls(revision=int(doc.get("revision") or 0), replaced_at=kst(doc.get("replaced_at")),
                   title=str(doc.get("title") or ""), subtitle=_str(doc.get("subtitle")),
                   body=str(doc.get("body") or ""), authors=_strs(doc.get("authors")),
                   modified=kst(doc.get("modified")))


class RevisionList(BaseModel):
    id: str
    canonical_url: str
    current_revision: int
    revisions: list[Revision] = Field(description="Earlier versions, oldest first")


class StoryCopy(BaseModel):
    id: str
    outlet: str
    outlet_name: str | None = None
    title: str
    published: datetime | None = None
    canonical_url: str
    similarity: float | None = Field(None, description="To the closest earlier copy; null for the first copy")

    @classmethod
    def of(cls, doc: dict[str, Any], names: dict[str, str]) -> "StoryCopy":
        similarity = doc.get("story_similarity")
        outlet = str(doc.get("outlet") or "")
        return cls(id=str(doc["_id"]), outlet=outlet, outlet_name=names.get(outlet), title=str(doc.get("title") or ""),
                   published=kst(doc.get("published") or doc.get("first_seen")),
                   canonical_url=str(doc.get("canonical_url") or ""),
                   similarity=float(similarity) if isinstance(similarity, (int, float)) else None)


class Story(BaseModel):
    story_id: str
    requested_id: str | None = Field(None, description="The id asked for, when it was merged into story_id")
    merged_ids: list[str] = Field(default_factory=list,
                                  description="Ids merged into this story: copies first given another id by a crawl "
                                              "running at the same time")
    outlets: int = Field(description="Distinct outlets among the copies")
    copies: list[StoryCopy] = Field(description="Earliest published first")


class NamedCount(BaseModel):
    name: str
    label: str | None = None
    articles: int


class VolumeResponse(BaseModel):
    since: date
    until: date
    total: int
    window_moved: bool = Field(False, description=WINDOW_MOVED)
    stored: Stored | None = Field(None, description="When the window is empty or was moved: what the database holds")
    by_day: list[DayCount]
    by_outlet: list[NamedCount]
    by_region: list[NamedCount] = Field(description='Dateline regions; "(none)" for articles without one')


class RunArticles(BaseModel):
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class Run(BaseModel):
    id: str
    outlet: str
    trigger: str | None = None
    status: str
    started: datetime | None = None
    ended: datetime | None = None
    duration_s: float | None = None
    pages: int | None = None
    items: int | None = None
    articles: RunArticles = RunArticles()
    dropped: dict[str, int] = {}
    errors: dict[str, int] = {}
    error: str | None = None
    cause: str | None = Field(None, description="Why a failed run never reached its site: dns, unreachable, tls, "
                                                "blocked, server_errors, robots")
    note: str | None = None
    dispatcher: str | None = None
    log_path: str | None = None
    faults: dict[str, int] = Field({}, description="What the sites did wrong, by name (http_5xx, timeouts, ...)")

    @classmethod
    def of(cls, doc: dict[str, Any]) -> "Run":
        articles = doc.get("articles") or {}
        duration = doc.get("duration_s")
        return cls(
            id=str(doc.get("_id", doc.get("id"))), outlet=str(doc.get("outlet") or ""), trigger=_str(doc.get("trigger")),
            status=str(doc.get("status") or "?"), started=kst(doc.get("started")), ended=kst(doc.get("ended")),
            duration_s=float(duration) if isinstance(duration, (int, float)) else None,
            pages=doc.get("pages") if isinstance(doc.get("pages"), int) else None,
            items=doc.get("items") if isinstance(doc.get("items"), int) else None,
            articles=RunArticles(**{k: int(articles.get(k) or 0) for k in ("new", "updated", "unchanged")}),
            dropped=_ints(doc.get("dropped")), errors=_ints(doc.get("errors")), error=_str(doc.get("error")),
            cause=_str(doc.get("cause")), note=_str(doc.get("note")), dispatcher=_str(doc.get("dispatcher")), log_path=_str(doc.get("log_path")),
            faults=_ints(doc.get("faults")),
        )


def _ints(value: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in (value or {}).items() if isinstance(v, (int, float))} if isinstance(value, dict) else {}


def _kst_deep(value: Any) -> Any:
    """Datetimes anywhere inside in Korea time (for free-form fields such as `checks`)."""
    if isinstance(value, datetime):
        return kst(value)
    if isinstance(value, dict):
        return {str(k): _kst_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_kst_deep(v) for v in value]
    return value


class WorkerShare(BaseModel):
    worker: str
    at: datetime | None = Field(None, description="When the worker reported its share")
    finish_reason: str | None = None
    pages: int = 0
    items: int = 0
    articles: RunArticles = RunArticles()
    errors: int = 0
    faults: dict[str, int] = {}


class LogTail(BaseModel):
    path: str | None = None
    lines: list[str] = Field(description="The last lines of the log file (at most 50), oldest first")
    problem: str | None = Field(None, description="Why no line was read: no log recorded, missing, unreadable, empty")
    truncated: bool = Field(False, description="Earlier lines exist")


class RunDetail(Run):
    database: str = Field(description="The database the run was read from")
    owner: str | None = None
    finish_reason: str | None = None
    retries: int | None = None
    fallback_articles: int | None = None
    http_status: dict[str, int] = Field({}, description="Answers by HTTP status")
    checks: dict[str, Any] | None = Field(None, description="The per-run checks' verdicts and figures (monitoring)")
    workers: list[WorkerShare] = Field([], description="Each distributed worker's share of the round")
    articles_since: datetime | None = Field(None, description="The run's time window: its start")
    articles_until: datetime | None = Field(None, description="The run's end (now while it runs)")
    articles_link: str | None = Field(None, description="The dashboard's article list of the outlet for the run's days")
    log_tail: LogTail

    @classmethod
    def detail(cls, doc: dict[str, Any], database: str, articles_link: str | None) -> "RunDetail":
        window = doc.get("articles_window") or {}
        workers = []
        for share in doc.get("workers") or []:
            counts = share.get("articles") or {}
            workers.append(WorkerShare(
                worker=str(share.get("worker") or "?"), at=kst(share.get("at")), finish_reason=_str(share.get("finish_reason")),
                pages=int(share.get("pages") or 0), items=int(share.get("items") or 0),
                articles=RunArticles(**{k: int(counts.get(k) or 0) for k in ("new", "updated", "unchanged")}),
                errors=int(share.get("errors") or 0), faults=_ints(share.get("faults")),
            ))
        tail = doc.get("log_tail") or {}
        checks = doc.get("checks")
        return cls(
            **Run.of(doc).model_dump(), database=database, owner=_str(doc.get("owner")),
            finish_reason=_str(doc.get("finish_reason")),
            retries=doc.get("retries") if isinstance(doc.get("retries"), int) else None,
            fallback_articles=doc.get("fallback_articles") if isinstance(doc.get("fallback_articles"), int) else None,
            http_status=_ints(doc.get("http_status")),
            checks=_kst_deep(checks) if isinstance(checks, dict) else None, workers=workers,
            articles_since=kst(window.get("since")), articles_until=kst(window.get("until")),
            articles_link=articles_link,
            log_tail=LogTail(path=_str(tail.get("path")), lines=[str(x) for x in tail.get("lines") or []],
                             problem=_str(tail.get("problem")), truncated=bool(tail.get("truncated"))),
        )


class RunList(BaseModel):
    since: date
    until: date
    runs: list[Run]
    next: str | None = Field(None, description="Pass as `before` for the next (older) page; null on the last")


class Alert(BaseModel):
    condition: str = Field(description="silent, drift, failing or blocked (crawler.monitoring)")
    cause: str
    opened: datetime | None = None
    updated: datetime | None = None
    run_id: str | None = None
    log_path: str | None = None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> "Alert":
        return cls(condition=str(doc.get("condition") or "?"), cause=str(doc.get("cause") or ""),
                   opened=kst(doc.get("opened")), updated=kst(doc.get("updated")), run_id=_str(doc.get("run_id")),
                   log_path=_str(doc.get("log_path")))


class OutletHealthModel(BaseModel):
    outlet: str
    name: str
    region: str
    verdict: str = Field(description="unhealthy (monitoring's open alerts), failing, overdue, no runs, running, paused, ok")
    reason: str
    schedule: str
    schedule_source: str = Field(description="spec (outlets.toml) or operator")
    state: str = Field(description="scheduled, paused, crawling, not scheduled")
    next_run: datetime | None = None
    run_now_requested: bool
    crawling_under: str | None = None
    last_run: Run | None = None
    last_success: datetime | None = Field(None, description="Start of the last finished run in the last day")
    runs_24h: int
    failed_24h: int
    new_24h: int = Field(description="New articles stored by the last day's runs")
    alerts: list[Alert] = Field(description="Open conditions found by crawler.monitoring")
    verified: bool | None = Field(None, description="A saved real page of the outlet backs its spec "
                                                    "(null: the outlet is not in the registry)")


class CheckVerdict(BaseModel):
    code: int = Field(description="0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the monitoring-plugin convention)")
    name: str
    status: str = Field(description="The one-line status, as `newsdesk health --check` prints it")


class HealthResponse(BaseModel):
    generated: datetime
    schedulers: list[str] = Field(description="`newsdesk run` schedulers alive on this database")
    counts: dict[str, int] = Field(description="Outlets per verdict")
    outlets: list[OutletHealthModel] = Field(description="Worst first")
    recent_failures: list[Run]
    monitoring: bool = Field(description="Whether monitoring judges runs (NEWSDESK_HEALTH_ENABLED): "
                                         "its open alerts then set the verdicts")
    search_queue: int | None = Field(None, description="Articles waiting in the search queue to be indexed "
                                                       "(null: it could not be read)")
    database: str | None = Field(None, description="The database this health was read from")
    check: CheckVerdict | None = Field(None, description="What `newsdesk health --check` says of the same database")

    @classmethod
    def of(cls, health: Any) -> "HealthResponse":
        outlets = []
        for row in health.outlets:
            outlets.append(OutletHealthModel(
                outlet=row.outlet, name=row.name, region=row.region, verdict=row.verdict, reason=row.reason,
                schedule=row.schedule, schedule_source=row.schedule_source, state=row.state,
                next_run=kst(row.next_run), run_now_requested=row.run_now_requested,
                crawling_under=row.crawling_under, last_run=Run.of(row.last_run) if row.last_run else None,
                last_success=kst(row.last_success), runs_24h=row.runs_24h, failed_24h=row.failed_24h,
                new_24h=row.new_24h, alerts=[Alert.of(a) for a in row.alerts],
            ))
        return cls(generated=kst(health.generated) or health.generated, schedulers=health.schedulers,
                   counts=health.counts, outlets=outlets,
                   recent_failures=[Run.of(r) for r in health.recent_failures], monitoring=health.monitoring)


class SidoCount(BaseModel):
    sido: str
    sido_code: str
    articles: int


class SigunguCount(BaseModel):
    sido: str
    sido_code: str
    sigungu: str
    sigungu_code: str
    articles: int


class PlacesResponse(BaseModel):
    since: date
    until: date
    total: int = Field(description="Articles matching the filters")
    untagged: int = Field(description="Of them, articles without places yet (`newsdesk places --reindex`)")
    window_moved: bool = Field(False, description=WINDOW_MOVED)
    stored: Stored | None = Field(None, description="When the window is empty or was moved: what the database holds")
    sido: list[SidoCount] = Field(description="Most articles first; an article about two 시도 counts under both")
    sigungu: list[SigunguCount] = Field(description="Most articles first")

    @classmethod
    def of(cls, counts: Any, since: date, until: date) -> "PlacesResponse":
        return cls(since=since, until=until, total=counts.total, untagged=counts.untagged,
                   sido=[SidoCount(**row) for row in counts.sido], sigungu=[SigunguCount(**row) for row in counts.sigungu])
