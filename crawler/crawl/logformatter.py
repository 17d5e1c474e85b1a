"""Scrapy's LogFormatter, with dropped items logged as one line (URL and reason).

The stock formatter logs the whole item at WARNING for every drop: a full article body per
line, thousands of times in a months-long run. The reason is counted in the stats anyway.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.logformatter import LogFormatter, LogFormatterResult


class NewsdeskLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> LogFormatterResult:
        url = ItemAdapter(item).get("url") if ItemAdapter.is_item(item) else None
        return {
            "level": logging.INFO,
            "msg": "Dropped %(url)s: %(exception)s",
            "args": {"url": url or "<no url>", "exception": exception},
        }
