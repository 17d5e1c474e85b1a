"""The read-only JSON API: /api/search (and /api/search/download, /api/trend), /api/articles, /api/stories, /api/volume, /api/runs
(and /api/runs/{run_id}), /api/health, /api/outlets. The pages call the same functions (crawler.web.views)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse

from crawler.web import views
from crawler.web.models import (
    ArticleDetail,
    ArticleList,
    HealthResponse,
    Outlet,
    RevisionList,
    RunDetail,
    PlacesResponse,
    RunList,
    SearchResponse,
    Story,
    VolumeResponse,
)
from crawler.web.params import (
    Before,
    Outlets,
    PerPage,
    Regions,
    SearchPage,
    Sections,
    Sigungus,
    Since,
    Sidos,
    Until,
    check_places,
)

router = APIRouter(prefix="/api")

Q = Annotated[str, Query(min_length=1, max_length=200, description='Words (each must occur), "exact phrases", -excluded words')]
Sort = Annotated[Literal["relevance", "newest"], Query(description="relevance (BM25, title words weigh more) or newest first")]

ArticleId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="Article id (24 hex digits)")]
StoryId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
RunId = Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                            description="Run id, as /api/runs gives it (joongdo-20240531T090000-a1b2c3)")]


@router.get("/outlets", response_model=list[Outlet], tags=["articles"], summary="Configured outlets")
def outlets() -> list[Outlet]:
    return views.outlet_list()


@router.get("/search", response_model=SearchResponse, tags=["articles"], summary="Ranked Korean full-text search")
def search(
    request: Request,
    q: Q,
    outlet: Outlets = [],
    region: Regions = [],
    section: Sections = [],
    since: Since = None,
    until: Until = None,
    page: SearchPage = 1,
    per_page: PerPage = 20,
    sort: Sort = "relevance",
    facets: Annotated[bool, Query(description="Also count the matches per outlet, region, section and day")] = False,
    sido: Sidos = [],
    sigungu: Sigungus = [],
) -> SearchResponse:
    """Articles containing every word and phrase (a word matches its forms with particles and
    administrative suffixes: 대전 finds 대전시는, not 휴대전화), ranked by relevance or newest.
    Snippets are segments; highlighted ones are the matches."""
    return views.search(request.app.state.db, q, outlet, region, section, since, until, page, per_page,
                        sort=sort, facets=facets, places=check_places(sido, sigungu))


@router.get("/search/download", tags=["articles"], summary="The matching articles as a CSV or JSONL file",
            response_class=FileResponse)
def download(
    request: Request,
    q: Q,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv (UTF-8 with a byte-order mark, for Excel) or jsonl")] = "csv",
    outlet: Outlets = [],
    region: Regions = [],
    section: Sections = [],
    since: Since = None,
    until: Until = None,
    sido: Sidos = [],
    sigungu: Sigungus = [],
) -> FileResponse:
    """Every matching article (up to the first DOWNLOAD_MAX, oldest first) with the fields of
    `newsdesk export`; the X-Newsdesk-Rows header says how many, X-Newsdesk-Truncated whether
    more matched."""
    return views.download(request.app.state.db, q, format, outlet, region, section, since, until,
                          check_places(sido, sigungu))


@router.get("/trend", response_model=SearchResponse, tags=["articles"], summary="How often a query appears per day")
def trend(
    request: Request,
    q: Q,
    by: Annotated[Literal["region", "outlet", "section"] | None, Query(description="Split the counts by this")] = None,
    outlet: Outlets = [],
    region: Regions = [],
    section: Sections = [],
    since: Since = None,
    until: Until = None,
    sido: Sidos = [],
    sigungu: Sigungus = [],
) -> SearchResponse:
    """Matching articles per Korea-time day (per month past ten years) in `facets.days`, and
    with `by`, per value in `facets.split`; the first hit only."""
    return views.search(request.app.state.db, q, outlet, region, section, since, until, 1, 1,
                        sort="newest", facets=True, split=by, places=check_places(sido, sigungu))


@router.get("/articles", response_model=ArticleList, tags=["articles"], summary="Newest articles in a date window")
def articles(
    request: Request,
    outlet: Outlets = [],
    region: Regions = [],
    section: Sections = [],
    since: Since = None,
    until: Until = None,
    per_page: PerPage = 20,
    before: Before = None,
    sido: Sidos = [],
    sigungu: Sigungus = [],
) -> ArticleList:
    """Articles published in the window (default: the last 7 Korea-time days, at most 366),
    newest first."""
    return views.browse(request.app.state.db, outlet, region, section, since, until, per_page, before,
                        places=check_places(sido, sigungu))


@router.get("/articles/by-url", response_model=ArticleDetail, tags=["articles"], summary="An article by its URL")
def article_by_url(
    request: Request,
    url: Annotated[str, Query(min_length=8, max_length=1000, description="Canonical URL or an alias of it")],
) -> ArticleDetail:
    return views.article_by_url(request.app.state.db, url)


@router.get("/articles/{article_id}", response_model=ArticleDetail, tags=["articles"], summary="One article")
def article(request: Request, article_id: ArticleId) -> ArticleDetail:
    return views.article(request.app.state.db, article_id)


@router.get("/articles/{article_id}/revisions", response_model=RevisionList, tags=["articles"],
            summary="Earlier versions of an article")
def revisions(request: Request, article_id: ArticleId) -> RevisionList:
    return views.revisions(request.app.state.db, article_id)


@router.get("/stories/{story_id}", response_model=Story, tags=["articles"],
            summary="Every copy of a story across outlets")
def story(request: Request, story_id: StoryId) -> Story:
    return views.story(request.app.state.db, story_id)


@router.get("/places", response_model=PlacesResponse, tags=["volume"],
            summary="Article counts per 시도 and per 시군구, with their 법정동 codes")
def places(
    request: Request,
    outlet: Outlets = [],
    sido: Sidos = [],
    since: Since = None,
    until: Until = None,
) -> PlacesResponse:
    """Articles published in the window (default: the last 30 Korea-time days, at most 366;
    when those hold no article, the 30 days to the newest one) per 시도 and per 시군구 they are
    about, most first (crawler.search.stats.place_counts)."""
    return views.places(request.app.state.db, outlet, sido, since, until)


@router.get("/volume", response_model=VolumeResponse, tags=["volume"],
            summary="Article counts per day, outlet and region")
def volume(
    request: Request,
    outlet: Outlets = [],
    region: Regions = [],
    since: Since = None,
    until: Until = None,
) -> VolumeResponse:
    """Articles published per Korea-time day of the window (default: the last 14 days, at most
    92), per outlet and per dateline region."""
    return views.volume(request.app.state.db, request.app.state.volume_cache, outlet, region, since, until)


@router.get("/runs", response_model=RunList, tags=["crawling"], summary="Crawl run history")
def runs(
    request: Request,
    outlet: Annotated[str | None, Query(max_length=60, description="Only this outlet")] = None,
    failed: Annotated[bool, Query(description="Only runs that failed, timed out or were abandoned")] = False,
    since: Since = None,
    until: Until = None,
    per_page: PerPage = 50,
    before: Before = None,
) -> RunList:
    """Runs started in the window (default: the last 7 days, at most 90), newest first,
    without their raw Scrapy stats (`newsdesk runs --json` has them)."""
    return views.runs(request.app.state.db, outlet, failed, since, until, per_page, before)


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["crawling"], summary="One crawl run in full")
def run(request: Request, run_id: RunId) -> RunDetail:
    """The run's figures (pages, articles, dropped by reason, errors, HTTP statuses, faults),
    its checks, each distributed worker's share, a link to the articles of its outlet and days,
    and the last lines of its log file (when this machine can read it)."""
    return views.run_detail(request.app.state.db, run_id)


@router.get("/health", response_model=HealthResponse, tags=["crawling"], summary="Crawl health per outlet")
def health(request: Request) -> HealthResponse:
    """Each outlet's schedule, state, last run and a verdict (failing and overdue first)."""
    return views.health(request.app.state.db)
