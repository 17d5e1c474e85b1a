"""Parsing an article page, wherever it runs: in a parse worker (crawler/pages/worker.py) or,
without one, in the crawl process. Free of Scrapy and Twisted, like the worker; the pool that
feeds the workers (crawler/crawl/parse_pool.py) imports from here, never the other way.
"""

from __future__ import annotations

import os
from typing import Any

from crawler.prepare import PrepareStep, run_steps


class PageCrash(RuntimeError):
    """The worker parsing a page died (the page is counted as a parse error)."""


class RemoteTraceback(Exception):
    """The traceback of a page's exception in the worker (set as the exception's cause)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def processes_setting(value: Any) -> int:
    """NEWSDESK_PARSE_PROCESSES as a number of workers ("auto": one on two cores)."""
    if value is None or str(value).strip().lower() in ("", "auto"):
        cores = os.cpu_count() or 1
        return 0 if cores < 2 else min(4, max(1, cores - 1))
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"NEWSDESK_PARSE_PROCESSES={value!r}: expected a number of processes or 'auto'") from None
    if count < 0:
        raise ValueError(f"NEWSDESK_PARSE_PROCESSES={value!r}: expected 0 or more")
    return count


def parse_page(outlet: Any, url: str, html: bytes, content_type: str | None,
               steps: tuple[PrepareStep, ...] = ()) -> Any:
    """The outlet's page object on one page: what the worker runs (and the spider, without one).
    The article then goes through `steps` (crawler/prepare.py): the enabled pipelines' work
    done ahead, off the crawl's thread, recorded on the article for them to check and take."""
    article = outlet.page_class()(url=url, html=html, outlet=outlet, content_type=content_type).to_article()
    return run_steps(article, steps)
