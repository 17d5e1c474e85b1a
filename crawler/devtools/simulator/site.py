"""One simulated outlet: its URLs, and the bytes of each page at a given simulated time.

Free of any server so the HTTP server (crawler.devtools.simulator.server) and the static writer
(crawler.devtools.simulator.static) serve exactly the same pages.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.outlets import OutletSpec
from crawler.devtools.simulator.corpus import News, SimArticle
from crawler.devtools.simulator.templates import FamilyPages, pages_for
from crawler.spiders.outlet import with_query_param

LOOP_PARAM = "_loop"  # the redirect-loop fault's counter


@dataclass
class Page:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def _query_set(query: str, drop: tuple[str, ...] = ()) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in drop)


class SimulatedOutlet:
    """URLs and pages of one outlet of the simulation."""

    def __init__(self, spec: OutletSpec, news: News, *, page_size: int = 20, rss_items: int | None = None,
                 list_depth: int | None = None, list_dates: bool = True) -> None:
        self.spec = spec
        self.news = news
        self.page_size = page_size
        self.rss_items = rss_items
        self.list_depth = list_depth  # list pages a section shows at most (older: only by id)
        self.list_dates = list_dates  # whether list items print their date
        self.pages: FamilyPages = pages_for(spec)
        saved = urlsplit(self.pages.article_url)
        digits = list(re.finditer(r"\d+", saved.path + ("?" + saved.query if saved.query else "")))
        if not digits:
            raise ValueError(f"{spec.name}: saved article URL {self.pages.article_url} has no id")
        last = digits[-1]
        path_query = saved.path + ("?" + saved.query if saved.query else "")
        self._id_base = int(last.group())
        self._before, self._after = path_query[: last.start()], path_query[last.end():]
        # how a request path is recognised as an article: the canonical form with any id
        probe = self.article_url(0)
        marker = str(self._id_base + 1)
        head, _, tail = probe.rpartition(marker)
        self._article_rx = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
        self._rss_paths = {urlsplit(u).path for u in spec.rss_urls}
        self._lists = [(urlsplit(u).path, _query_set(urlsplit(u).query, (spec.page_param,))) for u in spec.list_urls]

    # -- URLs ------------------------------------------------------------------------------
    def article_url(self, index: int) -> str:
        """The canonical URL of article `index` on the outlet's real host."""
        raw = f"{self.spec.scheme}://{self.spec.main_host}{self._before}{self._id_base + 1 + index}{self._after}"
        return self.spec.canonicalize(raw)

    def article_index(self, path_and_query: str) -> int | None:
        real = self.spec.canonicalize(f"{self.spec.scheme}://{self.spec.main_host}{path_and_query}")
        match = self._article_rx.match(real)
        if match is None:
            return None
        index = int(match.group(1)) - self._id_base - 1
        return index if 0 <= index < self.news.config.articles else None

    def local_path(self, real_url: str) -> str:
        parts = urlsplit(real_url)
        return urlunsplit(("", "", parts.path, parts.query, ""))

    def entry_paths(self) -> list[str]:
        """Where a crawl of this outlet starts (its feeds, else its list pages)."""
        urls = self.spec.rss_urls or self.spec.list_urls
        return [self.local_path(u) for u in urls]

    # -- pages -----------------------------------------------------------------------------
    def route(self, path_and_query: str) -> tuple[str, int] | None:
        """("robots"|"rss"|"list"|"article", number) for a path; None when there is no such page."""
        parts = urlsplit(path_and_query)
        if parts.path == "/robots.txt":
            return "robots", 0
        if parts.path in self._rss_paths:
            return "rss", 0
        query = _query_set(parts.query, (LOOP_PARAM,))
        for number, (path, base_query) in enumerate(self._lists):
            if parts.path == path:
                pageless = frozenset(q for q in query if q[0] != self.spec.page_param)
                if pageless == base_query:
                    page = dict(query).get(self.spec.page_param, "1")
                    return ("list", number * 100_000 + int(page)) if page.isdigit() and int(page) >= 1 else None
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LOOP_PARAM]
        index = self.article_index(parts.path + ("?" + urlencode(pairs) if pairs else ""))
        return ("article", index) if index is not None else None

    def visible(self, now: float) -> int:
        return self.news.visible(now)

    def section_indices(self, section: int, now: float) -> list[int]:
        """Visible articles of list `section`, newest first (article i is in section i % lists)."""
        count = len(self._lists) or 1
        top = self.visible(now) - 1
        while top >= 0 and top % count != section:
            top -= 1
        return list(range(top, -1, -count))

    def robots(self, disallow_articles: bool = False) -> Page:
        lines = ["User-agent: *"]
        if disallow_articles:
            lines.append(f"Disallow: {urlsplit(self._before).path}")
        lines.append("Allow: /")
        return Page(200, ("\n".join(lines) + "\n").encode("ascii"), "text/plain")

    def article(self, index: int, now: float) -> tuple[SimArticle, Page]:
        art = self.news.article(self.spec.name, index, now)
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>\n" for p in art.paragraphs)
        text = self.pages.render_article(title=art.title, body_html=body, when=art.published,
                                         url=self.article_url(index))
        return art, self._html(text)

    def list_page(self, number: int, now: float) -> Page | None:
        section, page = divmod(number, 100_000)
        if self.pages.list_page is None or section >= len(self._lists):
            return None
        indices = self.section_indices(section, now)
        pages = max(1, -(-len(indices) // self.page_size))
        if self.list_depth is not None:
            pages = min(pages, self.list_depth)
        if page > pages:
            page_items: list[int] = []
        else:
            page_items = indices[(page - 1) * self.page_size: page * self.page_size]
        items = []
        for index in page_items:
            art = self.news.article(self.spec.name, index, now)
            items.append((self.article_url(index), art.title, art.published))
        list_url = self.spec.list_urls[section]
        pager = "".join(
            f'<a href="{html.escape(with_query_param(list_url, self.spec.page_param, str(p)))}">{p}</a> '
            for p in range(max(1, page - 2), min(pages, page + 5) + 1)
        )
        text = self.pages.render_list(items, f'<div class="simulator-pager">{pager}</div>', dates=self.list_dates)
        return self._html(text)

    def rss(self, now: float) -> Page:
        visible = self.visible(now)
        count = visible if self.rss_items is None else min(visible, self.rss_items)
        entries = []
        for index in range(visible - 1, visible - 1 - count, -1):
            art = self.news.article(self.spec.name, index, now)
            entries.append(
                f"<item><title>{html.escape(art.title)}</title><link>{html.escape(self.article_url(index))}</link>"
                f"<pubDate>{format_datetime(art.published)}</pubDate></item>"
            )
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>{html.escape(self.spec.name_ko)}</title>{''.join(entries)}</channel></rss>")
        return Page(200, text.encode("utf-8"), "application/xml; charset=utf-8")

    def _html(self, text: str) -> Page:
        encoding = self.pages.encoding
        body = text.encode(encoding, errors="xmlcharrefreplace")
        kind = f"text/html; charset={self.pages.charset}" if self.pages.charset else "text/html"
        return Page(200, body, kind)

    def page(self, path_and_query: str, now: float) -> tuple[str, int, Page] | None:
        """(kind, number, page) for a path at simulated time `now`; None: 404."""
        found = self.route(path_and_query)
        if found is None:
            return None
        kind, number = found
        if kind == "robots":
            return kind, number, self.robots()
        if kind == "rss":
            return kind, number, self.rss(now)
        if kind == "list":
            page = self.list_page(number, now)
            return (kind, number, page) if page is not None else None
        if number >= self.visible(now):
            return None  # not published yet
        return kind, number, self.article(number, now)[1]

