"""Places (150): the 시도 and 시군구 each article is about, with their codes and sources.

crawler.text.places reads the dateline, title and lead against the shipped 법정동 code table,
and falls back to the outlet's home region (its spec's `region`, by the item's `outlet`) only
when the text names no place (crawler.search.places.places_for). The item gets `places` and
the flat `sido` and `sigungu` lists the store indexes (docs/schema.md). Tagging costs a
fraction of a millisecond per article (bench/places_bench.py), less than carrying its result
across the parse worker's pipe would, so it runs here and has no prepare step. Counts:
newsdesk/places/<source> (the source of the first place: dateline, title, lead or outlet) and
newsdesk/places/none.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawler.search.places import places_for


class PlacesPipeline:
    def __init__(self, stats: Any | None = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "PlacesPipeline":
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        found = places_for(adapter)
        for name, value in found.items():
            adapter[name] = value
        if self.stats is not None:
            first = found["places"][0]["source"] if found["places"] else "none"
            self.stats.inc_value(f"newsdesk/places/{first}")
        return item
