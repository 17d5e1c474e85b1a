"""Dedup (300): exact duplicates within an outlet, story clusters across outlets.

- Exact: the same body (body_hash) under the same title at a second URL of the same outlet
  is the same article: the item is marked `alias_of` the stored one, and the store records
  the URL as an alias instead of storing the article twice.
- Near: the story signature (MinHashes of the story text and its lead, a sampled record of
  its 5-grams by sentence, its numbers, title and lead days) is looked up in the
  StoryIndex; the item gets the story_id of the closest earlier copy that passes the
  comparison (crawler.dedup.stories), or a new one.

The index is one per process and database (crawler.crawl.story_index): the first crawler's
pipeline loads it from Mongo at spider open (articles first seen in the last
NEWSDESK_STORY_WINDOW_DAYS, the newest NEWSDESK_STORY_INDEX_MAX_ARTICLES of them) on a
thread; the crawlers of the same process share it, so outlets crawled together agree on
story ids at once; every NEWSDESK_STORY_REFRESH_SECONDS it takes in what other processes
stored. It holds at most NEWSDESK_STORY_INDEX_MAX_ARTICLES articles, the oldest first seen
going first with their story ids and exact keys (crawler.dedup.index). Lookups are in-memory;
the signature costs far more (bench/dedup_bench.py times both), so the parse worker computes
it ahead (SignatureStep, the pipeline's `prepare_step`: crawler/prepare.py) and the pipeline
takes it if the body and title are still the text it was computed from. Counts and the
index's size: newsdesk/dedup/*.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from crawler.crawl import story_index as shared_index
from crawler.dedup.index import DEFAULT_MAX_ARTICLES, exact_key
from crawler.dedup.params import DEFAULT_THRESHOLD
from crawler.dedup.stories import signature, to_bytes
from crawler.prepare import MISSING, PrepareStep, done, take
from crawler.store import StoreError, database_name, get_client, resolve_uri, store_env
from crawler.store.stories import StoryMergeStore
from crawler.text.clean import normalize_body, normalize_text

logger = logging.getLogger(__name__)


class SignatureStep:
    """The story signature, computed in the parse worker (a PrepareStep, crawler/prepare.py).

    The signature (crawler.dedup.stories.signature) is a pure function of the normalized body
    and title: the step signs them as the normalize pipeline leaves them (as it left them, when
    the normalize step ran first), and that text is its basis. Its result is the signature, or
    None for a text too short to sign; nothing is stored on the article's fields."""

    name = "signature"

    def run(self, article: Any) -> tuple[Any, tuple[str, str]]:
        body, title = self.basis(article)
        if not done(article, "normalize"):  # as the normalize pipeline will leave them
            body, title = normalize_body(body), normalize_text(title) or ""
        return signature(body, title), (body, title)

    def basis(self, item: Any) -> tuple[str, str]:
        adapter = ItemAdapter(item)
        return adapter.get("body") or "", adapter.get("title") or ""


class DedupPipeline:
    prepare_step: ClassVar[PrepareStep] = SignatureStep()  # run by the parse worker; process_item takes it

    def __init__(self, crawler: Crawler, env: dict[str, str]) -> None:
        self.stats = crawler.stats
        self.env = env
        settings = crawler.settings
        self.config = shared_index.IndexConfig(
            window=timedelta(days=settings.getfloat("NEWSDESK_STORY_WINDOW_DAYS", 7)),
            threshold=settings.getfloat("NEWSDESK_STORY_THRESHOLD", DEFAULT_THRESHOLD),
            max_articles=settings.getint("NEWSDESK_STORY_INDEX_MAX_ARTICLES", DEFAULT_MAX_ARTICLES),
            refresh_seconds=settings.getfloat("NEWSDESK_STORY_REFRESH_SECONDS", 60),
        )
        self.shared: shared_index.SharedStoryIndex | None = None
        self.opened_at: datetime | None = None
        self.knew_merges = False  # the index knew of merged story ids when this crawler closed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "DedupPipeline":
        if not crawler.settings.getbool("NEWSDESK_DEDUP_ENABLED", True):
            raise NotConfigured("NEWSDESK_DEDUP_ENABLED is off")
        if not crawler.settings.getbool("NEWSDESK_STORE_ENABLED", True):
            raise NotConfigured("no store: nothing to compare stories with")
        pipeline = cls(crawler, store_env(crawler.settings))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def index(self) -> Any:
        if self.shared is None:
            raise RuntimeError("the dedup pipeline is not open")
        return self.shared.index

    async def open_spider(self) -> None:
        self.opened_at = datetime.now(timezone.utc)
        shared, ready = shared_index.acquire(self.env, self.config, self.stats)
        self.shared = shared
        loader = shared.refs == 1  # this crawler created it; the others wait for its load
        loaded, seconds, peak = await maybe_deferred_to_future(ready)
        self.stats.set_value("newsdesk/dedup/index_loaded", loaded)
        self.stats.set_value("newsdesk/dedup/index_load_seconds", round(seconds, 2))
        self.stats.set_value("newsdesk/dedup/index_peak_mb", round(peak / 2**20, 1))
        if not loader:  # another crawler of this process loaded it
            self.stats.set_value("newsdesk/dedup/index_shared", True)
        shared.report(self.stats)
        logger.info("story index: %d articles from the last %s (at most %d), %.1f s%s", loaded, self.config.window,
                    self.config.max_articles, seconds, "" if loader else ", shared with this process's other crawlers")

    async def close_spider(self) -> None:
        if self.shared is not None:
            shared, self.shared = self.shared, None
            await maybe_deferred_to_future(shared_index.release(shared, self.stats))
            self.knew_merges = bool(shared.index.renamed)

    def spider_closed(self, spider: Any = None, reason: str | None = None) -> Any:
        """Once every pipeline has closed, the store's last batch included: when story ids
        were merged during this crawl, the merges recorded since it opened are carried out
        once more, for copies this crawl wrote under an id after the id was merged."""
        if not self.knew_merges or self.opened_at is None:
            return None
        return threads.deferToThread(self._apply_merges, self.opened_at - shared_index.REFRESH_OVERLAP)

    def _apply_merges(self, since: datetime) -> None:
        client = get_client(resolve_uri(self.env))
        try:
            moved = StoryMergeStore(client[database_name(self.env)]).apply_since(since)
            if moved:
                self.stats.inc_value("newsdesk/dedup/merged_late_copies", moved)
        except StoreError as exc:  # the scheduler's upkeep applies them later
            logger.warning("story merges not applied after the crawl: %s", exc)
        finally:
            client.close()

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        index = self.index
        url, outlet, body_hash = adapter.get("canonical_url"), adapter.get("outlet"), adapter.get("body_hash")
        key = exact_key(outlet, body_hash, adapter.get("title"))
        if key is not None:
            known = index.exact.get(key)
            if known is not None and known != url:
                adapter["alias_of"] = known
                self.stats.inc_value("newsdesk/dedup/exact_alias")
                return item
        body, title = adapter.get("body") or "", adapter.get("title") or ""
        sig = take(item, self.prepare_step)  # computed by the parse worker from this body and title
        if sig is MISSING:
            sig = signature(body, title)
        else:
            self.stats.inc_value("newsdesk/dedup/presigned")
        if sig is None:
            index.add(url, None, None, key)  # held for its exact key
            self.stats.inc_value("newsdesk/dedup/too_short")
            return item
        known_story = index.story_of(url)
        if known_story is not None:
            # a recrawl keeps its story: the stored story fields stay (the store leaves None alone)
            index.add(url, None, None, key)
            adapter["story_id"] = known_story
            self.stats.inc_value("newsdesk/dedup/known_story")
            return item
        compared, capped = index.compared, index.capped
        match = index.assign(url, sig, key)
        self.stats.inc_value("newsdesk/dedup/compared", index.compared - compared)  # candidates looked at closely
        if index.capped > capped:  # more candidates than the index compares (crawler.dedup.index.MAX_COMPARED)
            self.stats.inc_value("newsdesk/dedup/capped")
        adapter["minhash"] = to_bytes(sig)
        adapter["story_shingles"] = sig.size
        adapter["story_numbers"] = sorted(sig.numbers)
        adapter["story_id"] = match.story_id
        adapter["story_similarity"] = match.similarity
        adapter["story_closest"] = match.closest_url
        self.stats.inc_value("newsdesk/dedup/joined_story" if match.similarity is not None else "newsdesk/dedup/new_story")
        return item
