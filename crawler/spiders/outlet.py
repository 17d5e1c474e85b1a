"""Navigation only: RSS / list pages / sitemaps -> article pages -> the outlet's page object.

Discovery per outlet: its RSS feeds when it has any (the newest articles, cheaply), its
section list pages otherwise (paged up to NEWSDESK_MAX_LIST_PAGES, following the pager), and
its sitemaps in addition where it has them. Article links are canonicalized before they are
requested, so Scrapy's duplicate filter fetches each article once per crawl whichever of
these found it, under whichever URL form.

One spider class serves every outlet; an outlet's spider is that class bound to its spec
(crawler/spiders/outlets.py), so `scrapy crawl joongdo` works and adding an outlet adds no
spider code. Parsing lives in crawler/pages; this module only decides what to fetch.

`base_url` points the crawl at another host (a local copy of the site, the demo, tests): the
spider fetches from there but hands page objects and items the real outlet URL, so stored
documents look the same as from a live crawl.
"""

from __future__ import annotations

import logging
from functools import cached_property
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, AsyncIterator, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.sitemap import Sitemap
from twisted.internet import threads
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from crawler.crawl.parse_pool import ParsePool, acquire, release
from crawler.digests import DigestSet, url_key
from crawler.outlets import OutletSpec, get_outlet
from crawler.pages.parse import PageCrash, parse_page, processes_setting
from crawler.prepare import PrepareStep
from crawler.store import ArticleStore, database_name, get_client, resolve_uri, store_env
from crawler.text.dates import KST, parse_iso_datetime

logger = logging.getLogger(__name__)


def with_query_param(url: str, name: str, value: str) -> str:
    """`url` with `name=value` set in its query (replacing an existing value)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


class OutletSpider(scrapy.Spider):
    """Walks an outlet's list pages newest first and requests each article once."""

    outlet_name: str = ""

    def __init__(
        self,
        *args: Any,
        base_url: str | None = None,
        max_articles: int | str | None = None,
        max_list_pages: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.outlet: OutletSpec = get_outlet(self.outlet_name or self.name)
        self.base_url = self.check_base_url(base_url) if base_url else None
        self._max_articles_arg = _positive_int_or_none(max_articles, "max_articles")
        self._max_list_pages_arg = _positive_int_or_none(max_list_pages, "max_list_pages")
        self.articles_requested = 0
        # canonical URLs requested by this crawl, as 8-byte digests (url_key): ~20 bytes a URL
        # where a set of the strings took ~157, for as long as the crawl runs
        self._requested = DigestSet()
        self._store: Any = None  # opened on the lookup thread at first use
        self._parser: ParsePool | bool | None = None  # the page-parsing pool; False: parse here
        self._client: Any = None
        # store lookups get a thread of their own: the reactor's pool also serves DNS
        self._pool = ThreadPool(minthreads=0, maxthreads=1, name=f"newsdesk-lookup-{self.outlet.name}")
        # Offsite filtering (also of redirects): the outlet's hosts, and the local copy if any.
        self.allowed_domains = list(self.outlet.domains) + (
            [urlsplit(self.base_url).hostname or ""] if self.base_url else []
        )

    @staticmethod
    def check_base_url(base_url: str) -> str:
        """`scheme://host[:port]` of a local copy or staging host, lowercased; ValueError otherwise."""
        parts = urlsplit(base_url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url {base_url!r}: expected http(s)://host[:port]")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"base_url {base_url!r}: only scheme, host and port are used; drop the path")
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"

    # -- limits from arguments, else settings -------------------------------------------
    @property
    def max_articles(self) -> int:
        if self._max_articles_arg is not None:
            return self._max_articles_arg
        return self.settings.getint("NEWSDESK_MAX_ARTICLES", 0)

    @property
    def incremental(self) -> bool:
        """Skip stored articles: on unless switched off or there is no store to ask."""
        return self.settings.getbool("NEWSDESK_INCREMENTAL", True) and self.settings.getbool("NEWSDESK_STORE_ENABLED", True)

    @property
    def max_list_pages(self) -> int:
        if self._max_list_pages_arg is not None:
            return self._max_list_pages_arg
        return max(1, self.settings.getint("NEWSDESK_MAX_LIST_PAGES", 3))

    # -- URL mapping between the real site and where we fetch from --------------------------
    def fetch_url(self, real_url: str) -> str:
        """Where to fetch `real_url` from: itself, or the same path on `base_url`."""
        if not self.base_url:
            return real_url
        parts = urlsplit(real_url)
        base = urlsplit(self.base_url)
        return urlunsplit(parts._replace(scheme=base.scheme, netloc=base.netloc))

    def real_url(self, fetched_url: str) -> str:
        """The outlet URL for a URL found while crawling `base_url` (links may be relative)."""
        if not self.base_url:
            return fetched_url
        parts = urlsplit(fetched_url)
        if parts.netloc == urlsplit(self.base_url).netloc:
            return urlunsplit(parts._replace(scheme=self.outlet.scheme, netloc=self.outlet.main_host))
        return fetched_url

    # -- crawl -----------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for rss_url in self.outlet.rss_urls:
            yield scrapy.Request(self.fetch_url(rss_url), callback=self.parse_feed, meta={"newsdesk_kind": "feed"},
                                 errback=self.request_failed)
        if not self.outlet.rss_urls:
            for list_url in self.outlet.list_urls:
                yield self.list_request(list_url, 1)
        for sitemap_url in self.outlet.sitemap_urls:
            yield scrapy.Request(
                self.fetch_url(sitemap_url), callback=self.parse_sitemap, cb_kwargs={"depth": 0}, meta={"newsdesk_kind": "sitemap"},
                errback=self.request_failed,
            )

    def candidates(self, links: Iterable[str]) -> list[str]:
        """Canonical URLs of the article links among `links` (absolute, as found), in order,
        without the ones this crawl already requested."""
        found: dict[str, None] = {}
        for link in links:
            real = self.real_url(link)
            if not self.outlet.owns(real) or not self.outlet.is_article_url(real):
                continue
            canonical = self.outlet.canonicalize(real)
            if url_key(canonical) not in self._requested:
                found.setdefault(canonical, None)
        return list(found)

    async def fresh(self, canonicals: list[str]) -> list[str]:
        """The candidates worth fetching: not stored yet, or published within the revisit
        window (corrections are likely then) and not fetched in the last
        NEWSDESK_REVISIT_EVERY_HOURS. One batched store lookup per page; if the store cannot
        answer, everything counts as fresh (fetching twice is better than missing articles)."""
        if not canonicals or not self.incremental:
            return canonicals
        try:
            known = await self.known_states(canonicals)
        except Exception as exc:  # noqa: BLE001 - a store outage must not drop a page of links
            self.crawler.stats.inc_value("newsdesk/incremental/lookup_errors")
            logger.warning("store lookup failed (%s); fetching every article of this page", exc)
            return canonicals
        window = timedelta(hours=self.settings.getfloat("NEWSDESK_REVISIT_HOURS", 48))
        every = timedelta(hours=self.settings.getfloat("NEWSDESK_REVISIT_EVERY_HOURS", 6))
        now = datetime.now(timezone.utc)
        keep: list[str] = []
        for url in canonicals:
            state = known.get(url)
            if state is None:
                keep.append(url)
                continue
            published, last_seen = state.get("published"), state.get("last_seen")
            recent = published is not None and now - published <= window
            due = last_seen is None or now - last_seen >= every
            if recent and due:
                self.crawler.stats.inc_value("newsdesk/incremental/revisits")
                keep.append(url)
            else:
                self.crawler.stats.inc_value("newsdesk/incremental/skipped_known")
        return keep

    async def known_states(self, canonicals: list[str]) -> dict[str, dict[str, Any]]:
        """url -> {published, last_seen} of the stored ones (canonical or alias), off the reactor."""
        from twisted.internet import reactor  # imported late: Scrapy installs its reactor first

        if not self._pool.started:
            self._pool.start()
        return await maybe_deferred_to_future(threads.deferToThreadPool(reactor, self._pool, self._lookup, canonicals))

    def _lookup(self, canonicals: list[str]) -> dict[str, dict[str, Any]]:
        """On the lookup thread. It is the only one, so the store is opened once, lazily,
        without a lock; a failed open leaves it unopened and the next page tries again."""
        if self._store is None:
            self._store = self._open_store()
        return self._store.known_states(canonicals)

    def _open_store(self) -> Any:
        env = store_env(self.settings)
        self._client = get_client(resolve_uri(env))
        return ArticleStore(self._client[database_name(env)])

    @cached_property
    def _prepare_in_worker(self) -> tuple[PrepareStep, ...]:
        """What the parse worker does to an article besides parsing it: the prepare steps
        (crawler/prepare.py) of this crawl's enabled item pipelines, in pipeline order (a
        pipeline not configured, such as dedup without a store, is not among them). Each
        pipeline checks that the item is still what the worker made of it, and does the work
        itself otherwise."""
        try:
            engine = self.crawler.engine
        except RuntimeError:  # outside a crawl (Scrapy sets the engine as it starts): no pipelines run
            return ()
        # Scrapy's ItemPipelineManager keeps the pipelines it built, in order; another
        # ITEM_PROCESSOR may keep none, and then the pipelines do all their work themselves
        pipelines = getattr(engine.scraper.itemproc, "middlewares", ())
        steps = (getattr(pipeline, "prepare_step", None) for pipeline in pipelines)
        return tuple(step for step in steps if step is not None)

    def _parse_pool(self) -> ParsePool | None:
        """The process's page-parsing pool (NEWSDESK_PARSE_PROCESSES), taken at first use;
        None (parse here) without one, or once its workers cannot start."""
        if self._parser is None:
            processes = processes_setting(self.settings.get("NEWSDESK_PARSE_PROCESSES", "auto"))
            self._parser = acquire(processes) if processes else False
        if self._parser and self._parser.unusable:
            self.crawler.stats.set_value("newsdesk/parse_workers_unusable", self._parser.unusable)
            return None
        return self._parser or None

    async def closed(self, reason: str) -> None:
        from twisted.internet import reactor

        if self._parser:
            parser, self._parser = self._parser, None
            await maybe_deferred_to_future(release(parser))

        if self._client is not None:
            await maybe_deferred_to_future(threads.deferToThreadPool(reactor, self._pool, self._client.close))
        if self._pool.started:
            self._pool.stop()

    def article_requests(self, canonicals: Iterable[str], source: str) -> list[scrapy.Request]:
        """Requests for canonical article URLs, capped by max_articles."""
        requests: list[scrapy.Request] = []
        for canonical in canonicals:
            key = url_key(canonical)
            if key in self._requested:
                continue
            if self.max_articles and self.articles_requested >= self.max_articles:
                self.crawler.stats.inc_value("newsdesk/articles_over_limit")
                continue
            self.articles_requested += 1
            self._requested.add(key)
            self.crawler.stats.inc_value(f"newsdesk/discovered/{source}")
            requests.append(
                scrapy.Request(
                    self.fetch_url(canonical),
                    callback=self.parse_article,
                    cb_kwargs={"article_url": canonical},
                    meta={"newsdesk_kind": "article"},
                    errback=self.request_failed,
                )
            )
        return requests

    async def parse_feed(self, response: Response) -> Any:
        """RSS 2.0 or Atom: article links newest first (by pubDate/updated when given)."""
        self.crawler.stats.inc_value("newsdesk/feeds")
        entries: list[tuple[datetime | None, str]] = []
        for item in response.xpath("//*[local-name()='item' or local-name()='entry']"):
            link = item.xpath("./*[local-name()='link']/@href").get() or item.xpath("./*[local-name()='link']/text()").get()
            if not link:
                link = item.xpath("./*[local-name()='guid']/text()").get()
            if not link:
                continue
            when = item.xpath(
                "./*[local-name()='pubDate' or local-name()='published' or local-name()='updated' or local-name()='date']/text()"
            ).get()
            entries.append((_feed_date(when), response.urljoin(link.strip())))
        if not entries:
            self.crawler.stats.inc_value("newsdesk/feeds_without_items")
            logger.warning("feed %s has no items", response.url)
            return
        entries.sort(key=lambda e: e[0] or datetime.min.replace(tzinfo=KST), reverse=True)
        for request in self.article_requests(await self.fresh(self.candidates(link for _, link in entries)), "feed"):
            yield request

    async def parse_sitemap(self, response: Response, depth: int) -> Any:
        """Sitemap or sitemap index; an index's newest child sitemaps are followed (bounded)."""
        try:
            sitemap = Sitemap(response.body)
            entries = list(sitemap)
        except Exception:  # malformed XML is counted, never fatal
            self.crawler.stats.inc_value("newsdesk/sitemaps_unreadable")
            logger.warning("sitemap %s is not readable XML", response.url)
            return
        self.crawler.stats.inc_value("newsdesk/sitemaps")
        entries.sort(key=lambda e: e.get("lastmod") or "", reverse=True)
        if sitemap.type == "sitemapindex":
            limit = self.settings.getint("NEWSDESK_MAX_SITEMAPS", 3)
            if depth >= 1:
                return
            for entry in entries[:limit]:
                real = self.real_url(response.urljoin(entry["loc"]))
                if self.outlet.owns(real):
                    yield scrapy.Request(
                        self.fetch_url(real), callback=self.parse_sitemap, cb_kwargs={"depth": depth + 1},
                        meta={"newsdesk_kind": "sitemap"}, errback=self.request_failed,
                    )
            return
        links = (response.urljoin(e["loc"]) for e in entries if e.get("loc"))
        for request in self.article_requests(await self.fresh(self.candidates(links)), "sitemap"):
            yield request

    def list_request(self, list_url: str, page: int) -> scrapy.Request:
        real = list_url if page == 1 else with_query_param(list_url, self.outlet.page_param, str(page))
        return scrapy.Request(
            self.fetch_url(real),
            callback=self.parse_list,
            cb_kwargs={"list_url": list_url, "page": page},
            meta={"newsdesk_kind": "list"},
            errback=self.request_failed,
        )

    async def parse_list(self, response: Response, list_url: str, page: int) -> Any:
        stats = self.crawler.stats
        stats.inc_value("newsdesk/list_pages")
        links = self.list_links(response)
        if not any(self.outlet.is_article_url(self.real_url(link)) for link in links):
            stats.inc_value("newsdesk/list_pages_without_articles")
            logger.warning("list page %s (page %d) has no article links", response.url, page)
            return
        candidates = self.candidates(links)
        fresh = await self.fresh(candidates)
        for request in self.article_requests(fresh, "list"):
            yield request
        if self.max_articles and self.articles_requested >= self.max_articles:
            return
        if candidates and not fresh:
            # a whole page of stored articles: older pages hold nothing new either
            stats.inc_value("newsdesk/incremental/paging_stopped")
            return
        if page < self.max_list_pages and self.links_to_page(response, page + 1):
            yield self.list_request(list_url, page + 1)

    def list_links(self, response: Response) -> list[str]:
        """Article links of a list page, in page order: what the family's list selectors match
        (so sidebars such as 랭킹뉴스 do not count); all links when none is given or none
        matches (counted: the list markup changed)."""
        selectors = self.outlet.template().list_links
        hrefs = [h for selector in selectors for h in response.css(f"{selector}::attr(href)").getall()]
        if not hrefs:
            if selectors:
                self.crawler.stats.inc_value("newsdesk/list_selector_missed")
            hrefs = response.css("a::attr(href)").getall()
        return [response.urljoin(h.strip()) for h in hrefs]

    def links_to_page(self, response: Response, page: int) -> bool:
        """Whether the list page links to page `page` (the pager): no guessing past the end."""
        param = self.outlet.page_param
        for href in response.css("a::attr(href)").getall():
            if param not in href and "%" not in href:  # most links are no pager links: skip the parsing
                continue
            query = urlsplit(response.urljoin(href)).query
            if (param, str(page)) in parse_qsl(query, keep_blank_values=True):
                return True
        return False

    def request_failed(self, failure: Failure) -> None:
        """A request that produced no page (gave up after retries, refused by robots.txt, a
        redirect loop, too large, ...): counted by cause and logged in one line, never raised."""
        cause = failure_cause(failure)
        kind = failure.request.meta.get("newsdesk_kind", "page") if hasattr(failure, "request") else "page"
        self.crawler.stats.inc_value(f"newsdesk/failed/{cause}")
        self.crawler.stats.inc_value(f"newsdesk/failed_{kind}s")
        url = failure.request.url if hasattr(failure, "request") else "?"
        level = logging.INFO if cause == "robots" else logging.WARNING
        logger.log(level, "%s %s not fetched: %s (%s)", kind, url, cause, failure.getErrorMessage()[:200])

    async def parse_article(self, response: Response, article_url: str) -> AsyncIterator[Any]:
        content_type = response.headers.get(b"Content-Type")
        args = (self.outlet, article_url, response.body, content_type.decode("latin-1") if content_type else None)
        pool = self._parse_pool()  # a bad NEWSDESK_PARSE_PROCESSES is an error, not a parse error
        steps = self._prepare_in_worker if pool is not None else ()  # likewise: not a page's fault
        try:
            if pool is None:
                article = parse_page(*args)
            else:  # on a worker process (crawler/crawl/parse_pool.py): this core stays with Scrapy
                try:
                    article = await maybe_deferred_to_future(pool.parse(*args, steps))
                except PageCrash:
                    if not pool.unusable:
                        raise
                    article = parse_page(*args)  # workers cannot start here: not this page's fault
        except Exception as exc:  # a page that breaks the parser is counted and logged, never fatal
            self.crawler.stats.inc_value("newsdesk/parse_errors")
            if isinstance(exc, PageCrash):
                self.crawler.stats.inc_value("newsdesk/parse_crashes")
            logger.exception("cannot parse article %s (fetched from %s)", article_url, response.url)
            return
        stats = self.crawler.stats
        stats.inc_value("newsdesk/articles_parsed")
        fell_back = [name for name, source in article.provenance.items()
                     if name != "quality" and source not in ("selector", "text", "none")]
        if str(article.provenance.get("quality", "")).startswith("low"):
            # the fallback doubted its own result (no body, a short or chrome-like one, its
            # extractors disagreeing): stored, and counted so a run shows how many
            stats.inc_value("newsdesk/extract/generic_low_confidence")
        for name in fell_back:
            stats.inc_value(f"newsdesk/fallback/{name}")
        if fell_back:
            # the early sign that the outlet's template changed (monitors watch the share)
            stats.inc_value("newsdesk/fallback/articles")
        yield article


def failure_cause(failure: Failure) -> str:
    """A short stable name for why a request failed (the stats key newsdesk/failed/<cause>)."""
    exc = failure.value
    message = str(exc).lower()
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        if "robots" in message:
            return "robots"
        if "redirect" in message:
            return "redirect_loop"
        return "ignored"
    if "maxsize" in message or "max size" in message or "cancelled" in type(exc).__name__.lower():
        return "oversized"
    name = type(exc).__name__
    if "Timeout" in name:
        return "timeout"
    if name in ("ResponseFailed", "ConnectionLost", "ConnectionDone", "ConnectionRefusedError", "ResponseNeverReceived",
                "ConnectError", "ConnectionResetError", "_DataLoss", "DownloadFailedError"):
        return "connection"
    return name.lower()


def _feed_date(value: str | None) -> datetime | None:
    """pubDate (RFC 822) or Atom/DC dates (ISO 8601); naive values read as KST."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return parse_iso_datetime(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=KST)


def _positive_int_or_none(value: int | str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r}: expected a whole number") from None
    if number < 0:
        raise ValueError(f"{name}={value!r}: expected 0 or more")
    return number
