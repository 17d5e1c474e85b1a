"""Backfill: an outlet's past, newest first, back to a date (`newsdesk backfill`).

The outlet spider (crawler/spiders/outlet.py) reads a few list pages for what is new; this
subclass walks the same lists as deep as they go, and its checkpoint
(crawler/crawl/backfill_state.py) lets a killed backfill resume. Sources, read together:

- each list URL, page after page, following the pager, until a page lists nothing newer
  than --since or the pager ends. Entries whose list-page date is before the window are not
  fetched, nor those listed more than NEWSDESK_BACKFILL_LIST_DATE_MARGIN_HOURS after it (a
  list may print the modified time). A list that prints no dates reads its next page once
  the page's articles are in, judging by their publication dates;
- the outlet's sitemaps, one at a time, entries with a lastmod before the window skipped
  (an article modified before --since was published before it); a sitemap index's children
  likewise;
- NDSoft outlets (sequential `idxno`) whose lists ran out before --since: the ids below the
  lowest one listed, in batches of NEWSDESK_BACKFILL_ID_BATCH, down to a batch whose
  articles are all older than the window, or NEWSDESK_BACKFILL_ID_EMPTY_BATCHES batches in a
  row with no article at all.

Stored articles are never fetched (one store lookup per page). An article fetched and found
outside [since, until] is not stored (newsdesk/backfill/outside_window). RSS is not read: a
feed holds only the newest articles.

Why one module: reading a page, recording what it owes in the checkpoint, and settling its
articles (item signals, the store's durable watermark, the one-second tick) are one state
machine over the checkpoint; which source reads on, and when, depends on all three.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.sitemap import Sitemap
from twisted.internet import task
from twisted.python.failure import Failure

from crawler.crawl.backfill_state import Checkpoint, Window
from crawler.digests import url_key
from crawler.spiders.outlet import OutletSpider, failure_cause, with_query_param
from crawler.text.dates import KST, find_datetimes, parse_iso_datetime

logger = logging.getLogger(__name__)

META = "newsdesk_backfill"  # request meta: (page key, canonical URL) of an article request
_IDXNO = re.compile(r"[?&]idxno=(\d+)")
_LOOKING_UP = "(store lookup)"  # stands for an id batch's articles while the store is asked


class BackfillSpider(OutletSpider):
    """An outlet's articles published in a window, newest first (module docstring)."""

    @classmethod
    def for_outlet(cls, name: str) -> type["BackfillSpider"]:
        """The backfill spider of outlet `name` (its spider name is the outlet id)."""
        title = "".join(part.title() for part in name.split("_"))
        return type(f"{title}BackfillSpider", (cls,), {"name": name, "outlet_name": name})

    def __init__(self, *args: Any, since: str, until: str | None = None, jobdir: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = Window.parse(since, until)
        self.checkpoint = Checkpoint.open(Path(jobdir), self.outlet.name, self.window)
        # per page key: the URLs still unprocessed (decides a gated page), and dates seen
        self._unprocessed: dict[str, set[str]] = {}
        # items handed to the store, waiting for its durable watermark: (buffered, page, url)
        self._waiting: deque[tuple[int, str, str]] = deque()
        self._store_pipeline: Any = None
        self._ticker: task.LoopingCall | None = None
        self._dirty = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> "BackfillSpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_error, signal=signals.item_error)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    # -- settings ----------------------------------------------------------------------------
    @property
    def incremental(self) -> bool:
        """A backfill always skips stored articles (no revisit window): whenever there is a store."""
        return self.settings.getbool("NEWSDESK_STORE_ENABLED", True)

    @property
    def list_date_margin(self) -> timedelta:
        return timedelta(hours=self.settings.getfloat("NEWSDESK_BACKFILL_LIST_DATE_MARGIN_HOURS", 24))

    # -- start and resume --------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        from twisted.internet import reactor  # imported late: Scrapy installs its reactor first

        self._ticker = task.LoopingCall(self._tick)
        self._ticker.clock = reactor
        self._ticker.start(1.0, now=False)
        cp = self.checkpoint
        stats = self.crawler.stats
        stats.set_value("newsdesk/backfill/window", str(self.window))
        if cp.resumed:
            stats.set_value("newsdesk/backfill/resumed", 1)
            logger.info("backfill %s %s: resuming (%d unsettled pages)", self.outlet.name, self.window, len(cp.pages))
        else:
            for n, list_url in enumerate(self.outlet.list_urls):
                cp.sources[f"list:{n}"] = {"kind": "list", "url": list_url, "next": 1, "done": False}
            if self.outlet.sitemap_urls:
                cp.sources["sitemaps"] = {"kind": "sitemaps", "todo": list(self.outlet.sitemap_urls), "done": False}
            cp.save()
        self._publish_progress()
        for key in list(cp.pages):  # what the unsettled pages still owe, minus what is stored now
            record = cp.pages[key]
            fresh = await self._unstored(record["urls"], key)
            record["urls"] = fresh
            self._unprocessed[key] = set(fresh)
            stats.inc_value("newsdesk/backfill/resumed_articles", len(fresh))
            for request in self._article_requests(fresh, key):
                yield request
        cp.save()
        for request in self._settle_pages():
            yield request
        for key, source in list(cp.sources.items()):
            if not source["done"] and not self._gated(key):
                for request in self._source_requests(key):
                    yield request

    def _gated(self, source: str) -> bool:
        """Whether `source` waits for one of its pages to be judged before reading on."""
        return any(r["source"] == source and r.get("gate") for r in self.checkpoint.pages.values())

    def _source_requests(self, key: str) -> list[scrapy.Request]:
        source = self.checkpoint.sources[key]
        kind = source["kind"]
        if kind == "list":
            page = source["next"]
            real = source["url"] if page == 1 else with_query_param(source["url"], self.outlet.page_param, str(page))
            return [scrapy.Request(self.fetch_url(real), callback=self.parse_backfill_list,
                                   cb_kwargs={"source": key, "page": page}, meta={"newsdesk_kind": "list"},
                                   errback=self._source_failed, dont_filter=True)]
        if kind == "sitemaps":
            if not source["todo"]:
                return self._finish_source(key, "read")
            url = source["todo"][0]
            return [scrapy.Request(self.fetch_url(url), callback=self.parse_backfill_sitemap,
                                   cb_kwargs={"source": key, "url": url}, meta={"newsdesk_kind": "sitemap"},
                                   errback=self._source_failed, dont_filter=True)]
        if kind == "ids":
            return self._id_batch(key)
        raise ValueError(f"unknown backfill source {kind!r}")

    # -- list pages --------------------------------------------------------------------------
    async def parse_backfill_list(self, response: Response, source: str, page: int) -> AsyncIterator[scrapy.Request]:
        stats = self.crawler.stats
        stats.inc_value("newsdesk/list_pages")
        state = self.checkpoint.sources[source]
        state.pop("failed", None)
        entries = self.list_entries(response)
        if not entries:
            stats.inc_value("newsdesk/list_pages_without_articles")
            for request in self._finish_source(source, f"page {page} lists no articles", ran_out=True):
                yield request
            return
        for url, _ in entries:
            if (match := _IDXNO.search(url)) is not None:
                state["min_id"] = min(int(match.group(1)), state.get("min_id") or int(match.group(1)))
        dated = [when for _, when in entries if when is not None]
        all_dated = len(dated) == len(entries)
        for when in dated:
            self.checkpoint.saw(when)
        has_next = self.links_to_page(response, page + 1)
        ran_out = False
        if all_dated and all(when < self.window.start for when in dated):
            ended: str | None = f"page {page} lists nothing newer than {self.window.since}"
        elif not has_next:
            ended, ran_out = f"the pager ends at page {page}", True
        else:
            ended = None
        gate = ended is None and not all_dated  # no dates on the page: judge it by its articles
        key = f"{source}:{page}"
        # recorded before the store is asked: a kill from here on does not lose this page
        self._add_page(key, source, page, self._not_requested(self._in_window_by_list_date(entries)), gate)
        if ended is None and not gate:
            state["next"] = page + 1
        self.checkpoint.save()
        record = self.checkpoint.pages[key]
        fresh = record["urls"] = await self._unstored(record["urls"], key)
        self._unprocessed[key] = set(fresh)
        self._dirty = True
        for request in self._article_requests(fresh, key):
            yield request
        if ended is not None:
            for request in self._finish_source(source, ended, ran_out=ran_out):
                yield request
        elif not gate:
            for request in self._source_requests(source):
                yield request
        for request in self._settle_pages():
            yield request

    def list_entries(self, response: Response) -> list[tuple[str, datetime | None]]:
        """(canonical URL, date printed beside it or None) of a list page's article links, in
        page order: the family's list selectors (all links when none matches)."""
        selectors = self.outlet.template().list_links
        nodes = [node for selector in selectors for node in response.css(selector)]
        if not nodes:
            nodes = response.css("a[href]")
        found: dict[str, datetime | None] = {}
        for node in nodes:
            href = node.attrib.get("href")
            if not href:
                continue
            real = self.real_url(response.urljoin(href.strip()))
            if not self.outlet.owns(real) or not self.outlet.is_article_url(real):
                continue
            canonical = self.outlet.canonicalize(real)
            if found.get(canonical) is None:
                found[canonical] = self._entry_date(response, node, canonical)
        return list(found.items())

    def _entry_date(self, response: Response, link: Any, canonical: str) -> datetime | None:
        """The date printed in the list item around `link`: in the nearest enclosing element
        (up to four levels) that holds no other article's link, the first full date outside
        any link (a date in a headline is no list date; a year is never guessed). None when
        there is none: the article's own date decides then."""
        for ancestor in reversed(link.xpath("ancestor::*[position() <= 4]")):
            others = set()
            for href in ancestor.xpath(".//a/@href").getall():
                real = self.real_url(response.urljoin(href.strip()))
                if self.outlet.is_article_url(real):
                    others.add(self.outlet.canonicalize(real))
            if others - {canonical}:
                return None
            found = find_datetimes(" ".join(ancestor.xpath(".//text()[not(ancestor::a)]").getall()))
            if found:
                return found[0]
        return None

    def _in_window_by_list_date(self, entries: list[tuple[str, datetime | None]]) -> list[str]:
        stats = self.crawler.stats
        wanted = []
        for url, when in entries:
            if when is not None and when < self.window.start:
                stats.inc_value("newsdesk/backfill/listed_before_window")
            elif when is not None and when >= self.window.end + self.list_date_margin:
                stats.inc_value("newsdesk/backfill/listed_after_window")
            else:
                wanted.append(url)
        return wanted

    # -- sitemaps ----------------------------------------------------------------------------
    async def parse_backfill_sitemap(self, response: Response, source: str, url: str) -> AsyncIterator[scrapy.Request]:
        stats = self.crawler.stats
        state = self.checkpoint.sources[source]
        state.pop("failed", None)
        if state["todo"] and state["todo"][0] == url:
            state["todo"].pop(0)
        try:
            sitemap = Sitemap(response.body)
            entries = list(sitemap)
        except Exception:  # malformed XML is counted, never fatal
            stats.inc_value("newsdesk/sitemaps_unreadable")
            logger.warning("sitemap %s is not readable XML", response.url)
            entries, sitemap = [], None
        stats.inc_value("newsdesk/sitemaps")
        entries.sort(key=lambda e: e.get("lastmod") or "", reverse=True)  # newest first
        wanted: list[str] = []
        for entry in entries:
            loc = entry.get("loc")
            lastmod = parse_iso_datetime(entry["lastmod"]) if entry.get("lastmod") else None
            if not loc:
                continue
            if lastmod is not None and lastmod < self.window.start:
                stats.inc_value("newsdesk/backfill/sitemap_before_window")
                continue
            real = self.real_url(response.urljoin(loc))
            if sitemap is not None and sitemap.type == "sitemapindex":
                if self.outlet.owns(real) and real not in state["todo"]:
                    state["todo"].append(real)
            elif self.outlet.owns(real) and self.outlet.is_article_url(real):
                wanted.append(self.outlet.canonicalize(real))
        key = f"{source}:{url}"
        fresh = await self._unstored(self._not_requested(wanted), key)
        self._add_page(key, source, 0, fresh, gate=True)  # one sitemap at a time: bounded state
        self.checkpoint.save()
        for request in self._article_requests(fresh, key):
            yield request
        for request in self._settle_pages():
            yield request

    # -- the NDSoft id walk ------------------------------------------------------------------
    def _id_walk_start(self) -> int | None:
        """The id below the lowest listed, when the outlet's ids are sequential (NDSoft) and
        its lists ran out before the window's start; else None."""
        if self.outlet.family != "ndsoft":
            return None
        lists = [s for s in self.checkpoint.sources.values() if s["kind"] == "list"]
        if not lists or not any(s.get("ran_out") for s in lists):
            return None
        lowest = [s["min_id"] for s in lists if s.get("min_id")]
        return min(lowest) - 1 if lowest else None

    def _id_url(self, number: int) -> str:
        return self.outlet.canonicalize(
            f"{self.outlet.scheme}://{self.outlet.main_host}/news/articleView.html?idxno={number}")

    def _id_batch(self, key: str) -> list[scrapy.Request]:
        """Start the next batch of ids: its stored articles are looked up first (off the
        reactor), then the rest requested; nothing to return here."""
        source = self.checkpoint.sources[key]
        top = source["next"]
        if top < 1:
            return self._finish_source(key, "id 1 reached")
        size = max(1, self.settings.getint("NEWSDESK_BACKFILL_ID_BATCH", 20))
        source["next"] = top - size
        page_key = f"{key}:{top}"
        self._add_page(page_key, key, top, [], gate=True)
        self._unprocessed[page_key] = {_LOOKING_UP}  # judged only once the lookup is done
        self.checkpoint.pages[page_key]["urls"] = self._not_requested(self._id_url(n) for n in range(top, max(0, top - size), -1))
        self.checkpoint.save()
        deferred_from_coro(self._request_id_batch(page_key))
        return []

    async def _request_id_batch(self, page_key: str) -> None:
        record = self.checkpoint.pages[page_key]
        try:
            fresh = await self._unstored(record["urls"], page_key)
        except Exception:  # noqa: BLE001 - _unstored counts and logs store errors itself
            fresh = list(record["urls"])
        record["urls"] = fresh
        self._unprocessed[page_key] = set(fresh)
        self.crawler.stats.inc_value("newsdesk/backfill/id_walk/requested", len(fresh))
        self._dirty = True
        for request in self._article_requests(fresh, page_key):
            self.crawler.engine.crawl(request)
        for request in self._settle_pages():
            self.crawler.engine.crawl(request)

    # -- articles ----------------------------------------------------------------------------
    def _not_requested(self, canonicals: Iterable[str]) -> list[str]:
        return [url for url in dict.fromkeys(canonicals) if url_key(url) not in self._requested]

    async def _unstored(self, canonicals: list[str], page_key: str) -> list[str]:
        """The candidates the store does not have. A stored one counts as seen
        (newsdesk/backfill/skipped_stored), and its publication date as one of its page's."""
        if not canonicals or not self.incremental:
            return list(canonicals)
        try:
            known = await self.known_states(canonicals)
        except Exception as exc:  # noqa: BLE001 - a store outage must not drop a page of links
            self.crawler.stats.inc_value("newsdesk/incremental/lookup_errors")
            logger.warning("store lookup failed (%s); fetching every article of this page", exc)
            return list(canonicals)
        record = self.checkpoint.pages.get(page_key)
        fresh = []
        for url in canonicals:
            state = known.get(url)
            if state is None:
                fresh.append(url)
                continue
            self.crawler.stats.inc_value("newsdesk/backfill/skipped_stored")
            published = state.get("published")
            if published is not None:
                self._note_date(page_key, published.astimezone(KST), record)
        return fresh

    def _article_requests(self, canonicals: list[str], page_key: str) -> list[scrapy.Request]:
        requests = []
        for canonical in canonicals:
            self._requested.add(url_key(canonical))
            self.articles_requested += 1
            self.crawler.stats.inc_value("newsdesk/discovered/backfill")
            meta = {"newsdesk_kind": "article", META: (page_key, canonical)}
            requests.append(scrapy.Request(self.fetch_url(canonical), callback=self.parse_article,
                                           cb_kwargs={"article_url": canonical}, meta=meta,
                                           errback=self.request_failed))
        return requests

    async def parse_article(self, response: Response, article_url: str) -> AsyncIterator[Any]:
        """The outlet spider's article, kept only inside the window; an article that yields
        nothing is settled here, one that yields an item once the store has it."""
        key = response.meta.get(META, (None, article_url))[0]
        yielded = False
        async for article in super().parse_article(response, article_url):
            published = getattr(article, "published", None)
            if isinstance(published, datetime) and published.tzinfo is not None:
                self._note_date(key, published.astimezone(KST))
                if not self.window.contains(published):
                    self.crawler.stats.inc_value("newsdesk/backfill/outside_window")
                    continue
            yielded = True
            yield article
        if not yielded:
            self._processed(key, article_url, durable_at=None)

    def request_failed(self, failure: Failure) -> None:
        """Counted as any crawl counts it. An article the site did not answer for now (5xx,
        429, a timeout, a lost connection) stays owed in the checkpoint: the next run of the
        same window asks for it again; one the site answered for (404, robots.txt, ...) is
        settled."""
        super().request_failed(failure)
        request = getattr(failure, "request", None)
        if request is not None and META in request.meta:
            key, url = request.meta[META]
            cause = failure_cause(failure)
            transient = cause.startswith("http_5") or cause in ("http_429", "timeout", "connection")
            if transient:
                self.crawler.stats.inc_value("newsdesk/backfill/owed")
            self._processed(key, url, durable_at=None, settle=not transient)

    def _source_failed(self, failure: Failure) -> None:
        """A list page or sitemap that could not be fetched (after retries): its source ends
        here, said in the log; a later run of the same window resumes from it."""
        super().request_failed(failure)
        request = failure.request
        source = request.cb_kwargs.get("source")
        if source in self.checkpoint.sources:
            self.crawler.stats.inc_value("newsdesk/backfill/sources_failed")
            self.checkpoint.sources[source]["failed"] = request.url
            self.checkpoint.save()
            logger.warning("backfill %s: %s stopped at %s (not fetched)", self.outlet.name, source, request.url)

    # -- settling ----------------------------------------------------------------------------
    def _item_scraped(self, item: Any, response: Response, spider: Any) -> None:
        if response is not None and META in response.meta:
            key, url = response.meta[META]
            store = self._store_pipe()
            self._processed(key, url, durable_at=store.buffered if store is not None else None)

    def _item_dropped(self, item: Any, response: Response, exception: Any, spider: Any) -> None:
        if response is not None and META in response.meta:
            key, url = response.meta[META]
            self._processed(key, url, durable_at=None)

    def _item_error(self, item: Any, response: Response, spider: Any, failure: Any) -> None:
        """A pipeline failed on the item (not a drop): it stays owed, for the next run."""
        if response is not None and META in response.meta:
            key, url = response.meta[META]
            self.crawler.stats.inc_value("newsdesk/backfill/owed")
            self._processed(key, url, durable_at=None, settle=False)

    def _request_dropped(self, request: scrapy.Request, spider: Any) -> None:
        if META in request.meta:
            key, url = request.meta[META]
            self._processed(key, url, durable_at=None)

    def _store_pipe(self) -> Any:
        """The store pipeline (its `buffered` and `durable` counts), or None without one."""
        if self._store_pipeline is None:
            manager = self.crawler.engine.scraper.itemproc
            self._store_pipeline = next(
                (m for m in getattr(manager, "middlewares", ()) if hasattr(m, "durable") and hasattr(m, "buffered")), False)
        return self._store_pipeline or None

    def _processed(self, key: str, url: str, *, durable_at: int | None, settle: bool = True) -> None:
        """An article's request is done: settled now, or once the store's durable watermark
        reaches `durable_at`, or (settle=False) left owed. Its page may then be judged."""
        open_urls = self._unprocessed.get(key)
        if open_urls is not None:
            open_urls.discard(url)
        if not settle:
            pass
        elif durable_at is None:
            self._settle(key, url)
        else:
            self._waiting.append((durable_at, key, url))
        self._dirty = True
        for request in self._settle_pages():
            self.crawler.engine.crawl(request)

    def _settle(self, key: str, url: str) -> None:
        record = self.checkpoint.pages.get(key)
        if record is not None and url in record["urls"]:
            record["urls"].remove(url)

    def _note_date(self, key: str | None, when: datetime, record: dict[str, Any] | None = None) -> None:
        self.checkpoint.saw(when)
        record = record if record is not None else self.checkpoint.pages.get(key or "")
        if record is not None and record.get("gate"):
            if when >= self.window.start:
                record["newer"] = True
            record["dated"] = True

    def _add_page(self, key: str, source: str, page: int, urls: list[str], gate: bool) -> None:
        record = self.checkpoint.pages.setdefault(key, {"source": source, "page": page, "urls": [], "gate": gate})
        record["urls"] = list(dict.fromkeys(record["urls"] + urls))
        record["gate"] = gate
        self._unprocessed[key] = set(urls)

    def _settle_pages(self) -> list[scrapy.Request]:
        """Judge gated pages whose articles are all processed (read on, or end the source), and
        drop settled pages from the checkpoint; the requests to make next."""
        requests: list[scrapy.Request] = []
        for key, record in list(self.checkpoint.pages.items()):
            if record.get("gate") and not self._unprocessed.get(key):
                record["gate"] = False
                requests += self._judge(record)
                self._dirty = True
            if not record.get("gate") and not record["urls"] and not self._unprocessed.get(key):
                del self.checkpoint.pages[key]
                self._unprocessed.pop(key, None)
                self._dirty = True
        if requests:
            self.checkpoint.save()
        return requests

    def _judge(self, record: dict[str, Any]) -> list[scrapy.Request]:
        """A gated page whose articles are all in: read on from its source, or end it when its
        articles were all older than the window (ids: also after batches with no article)."""
        key = record["source"]
        source = self.checkpoint.sources[key]
        older = record.get("dated") and not record.get("newer")
        if source["kind"] == "list":
            if older:
                return self._finish_source(key, f"page {record['page']}'s articles are older than {self.window.since}")
            source["next"] = record["page"] + 1
        elif source["kind"] == "ids":
            if older:
                return self._finish_source(key, f"the ids from {record['page']} down are older than {self.window.since}")
            source["empty"] = 0 if record.get("dated") else source.get("empty", 0) + 1
            if source["empty"] >= max(1, self.settings.getint("NEWSDESK_BACKFILL_ID_EMPTY_BATCHES", 5)):
                return self._finish_source(key, f"no article among {source['empty']} batches of ids")
        return self._source_requests(key)

    def _finish_source(self, key: str, why: str, *, ran_out: bool = False) -> list[scrapy.Request]:
        """End a source; when the lists ran out before the window's start, an NDSoft outlet
        walks its ids on from there."""
        source = self.checkpoint.sources[key]
        if source["done"]:
            return []
        source["done"] = True
        source["ended"] = why
        source["ran_out"] = ran_out
        logger.info("backfill %s: %s done: %s", self.outlet.name, key, why)
        self.checkpoint.save()
        lists_done = all(s["done"] for s in self.checkpoint.sources.values() if s["kind"] == "list")
        if source["kind"] == "list" and lists_done and "ids" not in self.checkpoint.sources:
            start = self._id_walk_start()
            if start is not None:
                self.checkpoint.sources["ids"] = {"kind": "ids", "next": start, "done": False, "empty": 0}
                logger.info("backfill %s: lists ran out; walking ids down from %d", self.outlet.name, start)
                return self._source_requests("ids")
        return []

    def _tick(self) -> None:
        """Once a second: settle what the store made durable, save the checkpoint if it
        changed, publish progress."""
        store = self._store_pipe() if self.crawler.engine is not None else None
        durable = store.durable if store is not None else None
        while self._waiting and (durable is None or self._waiting[0][0] <= durable):
            _, key, url = self._waiting.popleft()
            self._settle(key, url)
            self._dirty = True
        requests = self._settle_pages()
        if self._dirty:
            self.checkpoint.save()
            self._dirty = False
        self._publish_progress()
        for request in requests:
            self.crawler.engine.crawl(request)

    def _publish_progress(self) -> None:
        stats = self.crawler.stats
        cp = self.checkpoint
        if cp.newest is not None:
            stats.set_value("newsdesk/backfill/newest", cp.newest.isoformat())
        if cp.reached is not None:
            stats.set_value("newsdesk/backfill/reached", cp.reached.isoformat())
        stats.set_value("newsdesk/backfill/since", self.window.start.isoformat())
        stats.set_value("newsdesk/backfill/until", self.window.end.isoformat())

    def _idle(self, spider: Any) -> None:
        """Not done while a gated page is still to be judged. When Scrapy is idle, every
        request made has ended: an article still unprocessed then (a request some component
        dropped without a word) stays owed in the checkpoint, and its page is judged without it."""
        for key, open_urls in self._unprocessed.items():
            vanished = open_urls - {_LOOKING_UP}
            if vanished:
                self.crawler.stats.inc_value("newsdesk/backfill/vanished", len(vanished))
                logger.warning("backfill %s: %d requests of %s ended without an answer; owed", self.outlet.name,
                               len(vanished), key)
                open_urls -= vanished
        if any(r.get("gate") for r in self.checkpoint.pages.values()):
            requests = self._settle_pages()
            for request in requests:
                self.crawler.engine.crawl(request)
            if requests or any(self._unprocessed.get(k) for k in self.checkpoint.pages):
                raise DontCloseSpider

    async def closed(self, reason: str) -> None:
        """The store has flushed by now (pipelines close before spider_closed): settle
        everything it made durable and save where the backfill stands."""
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        store = self._store_pipeline or None
        durable = store.durable if store is not None else None
        while self._waiting and (durable is None or self._waiting[0][0] <= durable):
            _, key, url = self._waiting.popleft()
            self._settle(key, url)
        for key, record in list(self.checkpoint.pages.items()):
            if not record.get("gate") and not record["urls"]:
                del self.checkpoint.pages[key]
        self.checkpoint.save()
        self._publish_progress()
        self.crawler.stats.set_value("newsdesk/backfill/complete", int(self.checkpoint.complete))
        await super().closed(reason)
