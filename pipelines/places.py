"""Places (150): the 시도 and 시군구 each article is about, with their codes and sources.

crawler.text.places reads the dateline, title and lead against the shipped 법정동 code table,
and falls back to the outlet's home region (its spec's `region`, by the item's `outlet`) only
when the text names no place (crawler.search.places.places_for). The item gets `places` and
the flat `sido` and `sigungu` lists the store indexes (docs/schema.md). The parse worker tags
the article (PlacesStep, a prepare step: crawler/prepare.py) so the crawl process, where the
reactor runs, only takes the result; an item whose text changed since is tagged here. Counts:
newsdesk/places/<source> (the source of the first place: dateline, title, lead or outlet) and
newsdesk/places/none.
"""

from __future__ import annotations

from typing import Any, ClassVar

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawler.prepare import MISSING, PrepareStep, take
from crawler.search.places import places_for


class PlacesStep:
    """Tagging, done in the parse worker after normalizing. Its result is the fields to set;
    its basis, the fields tagging reads."""

    name = "places"

    def run(self, article: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
        return places_for(ItemAdapter(article)), self.basis(article)

    def basis(self, item: Any) -> tuple[Any, ...]:
        adapter = ItemAdapter(item)
        return tuple(adapter.get(name) for name in ("title", "body", "subtitle", "region", "outlet"))


class PlacesPipeline:
    prepare_step: ClassVar[PrepareStep] = PlacesStep()  # run by the parse worker; process_item takes its record

    def __init__(self, stats: Any | None = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "PlacesPipeline":
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        found = take(item, self.prepare_step)
        if found is MISSING:  # not tagged by the parse worker, or its text changed since
            found = places_for(adapter)
        for name, value in found.items():
            adapter[name] = value
        if self.stats is not None:
            first = found["places"][0]["source"] if found["places"] else "none"
            self.stats.inc_value(f"newsdesk/places/{first}")
        return item
