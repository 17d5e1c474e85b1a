"""Generic extraction: what any news page says about itself, for when a template misses.

Used two ways: field by field behind TemplateArticlePage (a redesigned outlet), and whole for
pages of domains no outlet spec knows (`newsdesk extract` on an unknown site). Each getter
returns (value, source) so the article's provenance says which method produced the field.

Per field, most trusted first:
- title: JSON-LD headline, og:/twitter: title, <title>, each without the site's own name
  (`제목 - 매체명`, `[매체명] 제목`; the article's own `[속보]`, `[단독]` stay);
- published: a printed 입력/등록/승인 label beside JSON-LD / meta datePublished (the printed
  time wins when both agree), then the metadata, then <time> elements, then a printed time
  under the headline, then a date in the URL; every candidate must be plausible (after 1990,
  not in the future, not the paper's registration date in the footer);
- modified: a printed 수정 label beside the published one, else dateModified when the page
  prints no date; never before or equal to published;
- body: the densest text block read from the DOM, bounded by trafilatura's main text (which
  misses bodies of bare text with <br>, and paragraphs that open with a lead byline), then
  Korean cleanup: lead bylines, decks, trailers, notices and prompts after the story.
A page whose result looks doubtful (short or chrome-like body, no title or date, extractors
that disagree) says so in `provenance["quality"]` rather than being stored as if it were fine.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from crawler.items import Article
from crawler.pages.base import ArticlePage, block_lines
from crawler.pages.bodytext import (
    MIN_BODY,
    clean_body_lines,
    densest_block_lines,
    densest_block_text,
    merge_extractions,
    trafilatura_text,
    until_end,
)
from crawler.pages.embedded import EmbeddedArticle, embedded_article
from crawler.pages.headline import SiteNames
from crawler.text.bylines import Byline, is_byline_line, parse_byline
from crawler.text.clean import is_prose, normalize_text
from crawler.text.dates import (
    KST,
    LabelledDate,
    find_datetimes,
    find_labelled_dates,
    parse_iso_datetime,
    plausible_article_date,
)
from crawler.text.urls import canonicalize_url

__all__ = ["GenericArticlePage", "GenericFields", "clean_body_lines", "densest_block_text", "low_quality", "trafilatura_text"]

PUBLISHED_META = ("article:published_time", "og:article:published_time", "datePublished", "pubdate", "publish-date",
                  "publishdate", "date", "dc.date", "DC.date.issued", "sailthru.date")
MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "dateModified")
AUTHOR_META = ("dable:author", "author", "article:author", "og:article:author", "byl")
PRINTED_VS_META = timedelta(hours=12)
SAVED_AGAIN = timedelta(minutes=1)
# Desks some sites name as the author (`<meta name="author" content="연예">`): not people.
DESKS = frozenset("연예 사회 정치 경제 문화 스포츠 국제 전국 지역 사설 오피니언 편집 편집국 온라인 디지털 뉴스 보도 속보 "
                  "연예팀 사회부 정치부 경제부 문화부 체육부 국제부 편집부 온라인뉴스팀 디지털뉴스팀 뉴스팀".split())  # a modified time this close to publication is the CMS saving twice
NEAR_LABEL_AFTER, NEAR_LABEL_BEFORE = 200, 60  # characters between a 수정 label and the 입력 label
AFTER_TITLE = 400  # characters after the printed headline where an unlabelled date is the article's
# Elements whose whole text may be a reporter credit (`홍길동 기자`, `기자명 홍길동`).
BYLINE_CANDIDATES = "span, li, p, em, strong, div, dd, address, a"

# The paper's registration block in the footer (`등록번호 ... 등록일 2010.01.05 발행인 ...`):
# its dates are not the article's.
_REGISTRATION = re.compile(r"등록번호|정기간행물|발행인|편집인|발행소|사업자|창간|제호|청소년\s?보호")
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?!\d)")
_WORDS = re.compile(r"[^0-9A-Za-z가-힣]+")  # what is left is a text's words, for comparing forms
SUMMARY_KEY, SUMMARY_LINES = 24, 12  # letters of the summary looked for, in the body's first lines
_LEADING_CUE = re.compile(r"^\s*(?:[\[【◀<]\s*[^\]】▶>]{1,12}\s*[\]】▶>]\s*)+")  # `[앵커] ` before a summary
# Labels some sites also print for the day's edition or a board post: trusted after 입력/등록.
_WEAK_LABEL = re.compile(r"발행|게시|게재|작성")


class GenericFields:
    """Field getters over a parsed page (an ArticlePage gives the tree and meta helpers)."""

    def __init__(self, page: ArticlePage, now: datetime | None = None) -> None:
        self.page = page
        self.now = now  # when the page was fetched (default: now), for the future-date check
        self.body_bylines: list[Byline] = []  # filled by body(): trailers and wire lead it removed
        self.credit_bylines: list[Byline] = []  # filled by authors(): the credit it read
        self.doubts: list[str] = []  # filled by body(): why its result may be wrong

    @cached_property
    def ld(self) -> dict[str, Any]:
        return self.page.json_ld_article() or {}

    # -- title ---------------------------------------------------------------------------
    def title(self) -> tuple[str | None, str]:
        return self._title

    @cached_property
    def _title(self) -> tuple[str | None, str]:
        """The first of JSON-LD headline, og:/twitter: title and <title>, without the site's
        name; where another of them has the same words with more punctuation (a JSON-LD
        headline that lost its quotes), that one."""
        found: list[tuple[str, str]] = []
        headline = self.ld.get("headline")
        if isinstance(headline, str) and headline.strip():
            found.append((self.without_site_name(normalize_text(_unescape(headline))), "jsonld"))
        for raw in (self.page.meta("og:title"), self.page.meta("twitter:title"), self.page.css_text("title")):
            if raw:  # some sites escape twice: `&amp;quot;` in the page is `&quot;` here
                found.append((self.without_site_name(normalize_text(_unescape(raw))), "meta"))
        found = [(title, source) for title, source in found if title and not self._is_site_segment(title)]
        if not found:
            return None, "none"
        best = found[0]
        key = _WORDS.sub("", best[0])
        for title, source in found[1:]:
            if len(title) > len(best[0]) and _WORDS.sub("", title) == key:
                best = (title, source if best[1] != "jsonld" else best[1])
        for node in self.page.tree.css("h1, h2, h3"):  # as printed, when it has the same words
            printed = normalize_text(node.text(separator=" "))
            if printed != best[0] and len(printed) <= len(best[0]) + 10 and _WORDS.sub("", printed) == key:
                return printed, "heading"  # not "text": a template's missed title still counts as a fallback
        return best

    @cached_property
    def _names(self) -> SiteNames:
        return SiteNames(self.page, self.ld)

    def without_site_name(self, title: str) -> str:
        return self._names.without_site_name(title)

    def _is_site_segment(self, segment: str) -> bool:
        return self._names.is_site_segment(segment)

    # -- dates ---------------------------------------------------------------------------
    @cached_property
    def printed_text(self) -> str:
        body = self.page.tree.body
        if body is None:
            return ""
        return " ".join(line.strip() for line in block_lines(body) if line.strip())

    @cached_property
    def printed_dates(self) -> list[LabelledDate]:
        """Labelled dates printed in the page text (입력/승인/수정 ...), in page order: plausible
        ones only, and none from the paper's registration block in the footer."""
        text = self.printed_text
        found = []
        pos = 0
        for date in find_labelled_dates(text):
            at = text.find(date.raw, pos)
            pos = max(pos, at)
            context = text[max(0, at - 60): at + len(date.raw) + 30]
            if _REGISTRATION.search(context) or not plausible_article_date(date.value, self.now):
                continue
            found.append(date)
        return found

    def _near_published(self, label: Any) -> bool:
        """A 수정 label printed close to the article's 입력 label (not a site-wide 업데이트 line)."""
        text = self.printed_text
        first = self._printed_published
        if first is None:
            return False
        # usually printed after 입력; NDSoft 2025 prints `업데이트 ... 입력 ...` right before it
        distance = text.find(label.raw) - text.find(first.raw)
        return -NEAR_LABEL_BEFORE <= distance <= NEAR_LABEL_AFTER

    @cached_property
    def _printed_published(self) -> LabelledDate | None:
        """The printed publication label: among those that agree with the metadata's time when
        there is one, a strong label (입력/등록/승인/송고) before a weak one (발행/게시/작성, which
        some sites use for the day's edition), a time of day before a bare date, page order."""
        dates = [d for d in self.printed_dates if d.kind == "published"]
        if not dates:
            return None
        structured, _ = self._structured_date("datePublished", PUBLISHED_META)
        if structured is not None:
            near = [d for d in dates if _agrees(d.value, structured)]
            if near:  # the first strong label that tells the metadata's time, as readers see it
                return min(near, key=lambda d: (_WEAK_LABEL.search(d.label) is not None, not _has_time(d.raw)))
        return min(dates, key=lambda d: (_WEAK_LABEL.search(d.label) is not None, not _has_time(d.raw)))

    def _structured_date(self, ld_key: str, meta_names: tuple[str, ...]) -> tuple[datetime | None, str]:
        value = self.ld.get(ld_key)
        if isinstance(value, str):
            parsed = parse_iso_datetime(value)
            if plausible_article_date(parsed, self.now):
                return parsed, "jsonld"
        meta = self.page.meta(*meta_names)
        if meta:
            parsed = parse_iso_datetime(meta)
            if plausible_article_date(parsed, self.now):
                return parsed, "meta"
        return None, "none"

    def published(self) -> tuple[datetime | None, str]:
        """The printed 입력/승인 time when it agrees with the metadata, else the metadata, else
        weaker evidence (see the module docstring); never a date that cannot be the article's.

        Readers see the printed time (meta often differs by seconds or minutes), but a label
        found anywhere on the page could belong to something else, so a printed time far
        from the metadata's is not trusted.
        """
        structured, source = self._structured_date("datePublished", PUBLISHED_META)
        printed = self._printed_published
        if printed is not None and (structured is None or _agrees(printed.value, structured)):
            return printed.value, "text"
        if structured is not None:
            return structured, source
        for getter in (self._time_element, self._date_under_headline, self._url_date):
            value, source = getter()
            if value is not None:
                return value, source
        return None, "none"

    def _time_element(self) -> tuple[datetime | None, str]:
        for node in self.page.tree.css("time[datetime], [itemprop=datePublished]"):
            raw = node.attributes.get("datetime") or node.attributes.get("content") or node.text()
            value = parse_iso_datetime(raw or "")
            if plausible_article_date(value, self.now):
                return value, "meta"
        return None, "none"

    def _date_under_headline(self) -> tuple[datetime | None, str]:
        """An unlabelled date and time printed right after the headline (`2026년 02월 24일(화) 19:00`)."""
        title, _ = self.title()
        text = self.printed_text
        at = text.find(title) if title else -1
        if at < 0:
            return None, "none"
        window = text[at + len(title): at + len(title) + AFTER_TITLE]
        for value in find_datetimes(window):
            if (value.hour or value.minute) and plausible_article_date(value, self.now):
                return value, "text"
        return None, "none"

    def _url_date(self) -> tuple[datetime | None, str]:
        """A date in the article's URL (`/2019/01/16/`, `20190116...`): the day only, a last resort."""
        match = _URL_DATE.search(urlsplit(self.page.url).path + "?" + urlsplit(self.page.url).query)
        if match is None:
            return None, "none"
        try:
            value = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), tzinfo=KST)
        except ValueError:
            return None, "none"
        return (value, "url") if plausible_article_date(value, self.now) else (None, "none")

    def modified(self) -> tuple[datetime | None, str]:
        """A printed 수정/업데이트 time; metadata only when the page prints no dates at all
        (a CMS's dateModified is often its last touch of the record, not a correction).
        Never at or before the publication time."""
        published, _ = self.published()
        printed = [d.value for d in self.printed_dates if d.kind == "modified" and self._near_published(d)]
        if printed:
            value, source = printed[-1], "text"
        elif self.printed_dates:
            return None, "none"
        else:
            value, source = self._structured_date("dateModified", MODIFIED_META)
            if value is None and self.embedded is not None and self.embedded.updated:
                value, source = parse_iso_datetime(self.embedded.updated), "embedded"
                value = value if plausible_article_date(value, self.now) else None
        if value is None or (published is not None and value < published + SAVED_AGAIN):
            return None, "none"
        return value, source

    # -- authors -------------------------------------------------------------------------
    def structured_authors(self) -> tuple[list[str], str]:
        """Names from JSON-LD or meta author (a site name there is not a person)."""
        names = _ld_names(self.ld.get("author"))
        source = "jsonld"
        if not names:
            meta = self.page.meta(*AUTHOR_META)
            names = [meta] if meta and not meta.startswith("http") else []
            source = "meta"
        if not names and self.embedded is not None:
            names, source = self.embedded.credits, "embedded"
        authors: list[str] = []
        for name in names:
            if self._is_site_segment(name) or normalize_text(name) in DESKS:
                continue
            byline = parse_byline(name) or parse_byline(f"{name} 기자")
            if byline is not None:  # `iMBC 연예` names a desk, not a reporter
                byline.authors = [a for a in byline.authors if a not in DESKS]
                self.credit_bylines.append(byline)
                authors.extend(a for a in byline.authors if a not in authors)
        return (authors, source) if authors else ([], "none")

    def printed_authors(self) -> tuple[list[str], str]:
        """The first element on the page whose whole text is a reporter credit."""
        for node in self.page.tree.css(BYLINE_CANDIDATES):
            raw = node.text(separator=" ")
            if len(raw) > 400 or "기자" not in raw:  # cheap tests first: most elements are neither
                continue
            text = normalize_text(raw)
            if 3 <= len(text) <= 40 and "기자" in text and is_byline_line(text):
                byline = parse_byline(text)
                if byline is not None and byline.authors:
                    self.credit_bylines.append(byline)
                    return list(byline.authors), "text"
        return [], "none"

    def authors(self) -> tuple[list[str], str]:
        """Names from JSON-LD or meta author, else the first element that is a whole byline."""
        authors, source = self.structured_authors()
        return (authors, source) if authors else self.printed_authors()

    # -- body ----------------------------------------------------------------------------
    def body(self) -> tuple[str, str]:
        """JSON-LD articleBody, else the densest text block bounded by trafilatura's text.

        trafilatura misses bodies written as bare text with <br> (common on Korean CMSs: it
        keeps only the photo caption of such a page) and bare text before the first <p>
        (where lead bylines sit); the density pick finds both. Where the dense block holds
        trafilatura's text, its extra lines are kept only when they read as sentences.
        """
        title, _ = self.title()
        ld_body = self.ld.get("articleBody")
        if isinstance(ld_body, str) and len(ld_body.strip()) >= 80:
            body = clean_body_lines(ld_body.splitlines(), self.body_bylines, title)
            self._judge_body(body)
            return body, "jsonld"
        dense = until_end(densest_block_lines(self.page))
        if self._summary_opens(dense):  # the block holds the story the page summarizes: enough
            lines, source = dense, "density"
        else:
            traf = until_end(trafilatura_text(self.page.html).splitlines())
            lines, source = merge_extractions(dense, traf, traf_anchored=self._summary_opens(traf))
        if source == "disagree":
            self.doubts.append("extractors disagree")
            source = "density" if sum(map(len, dense)) > 1.5 * sum(map(len, traf)) else "trafilatura"
            lines = dense if source == "density" else traf
        bylines: list[Byline] = []
        body = clean_body_lines(lines, bylines, title) if lines else ""
        if len(body) < MIN_BODY and self.embedded is not None and self.embedded.paragraphs:
            # the HTML holds no story: the page draws it from its script data
            bylines, lines, source = [], self.embedded.paragraphs, "embedded"
            body = clean_body_lines(lines, bylines, title)
            self.doubts[:] = [d for d in self.doubts if d != "extractors disagree"]
        self.body_bylines[:] = bylines
        self._judge_body(body)
        return (body, source) if body else ("", "none")

    @cached_property
    def embedded(self) -> EmbeddedArticle | None:
        return embedded_article(self.page)

    def _summary_opens(self, lines: list[str]) -> bool:
        """Does the page's own summary (og:description and the like, which CMSs fill with the
        story's first words) appear near the top of these lines? Then they are the story and
        trafilatura, by far the slowest step, is not needed to find it."""
        summary = self.ld.get("description")
        if not isinstance(summary, str) or not summary.strip():
            summary = self.page.meta("og:description", "description", "twitter:description") or ""
        key = _WORDS.sub("", _LEADING_CUE.sub("", summary))[:SUMMARY_KEY]
        if len(key) < SUMMARY_KEY or not lines:
            return False
        top = _WORDS.sub("", "".join(lines[:SUMMARY_LINES]))
        return key in top

    def _judge_body(self, body: str) -> None:
        if not body:
            self.doubts.append("no body")
            return
        if len(body) < MIN_BODY:
            self.doubts.append("short body")
        paragraphs = body.split("\n\n")
        stubs = sum(1 for p in paragraphs if not is_prose(p))
        if len(paragraphs) >= 3 and stubs / len(paragraphs) > 0.5:
            self.doubts.append("chrome-like body")


def _unescape(text: str) -> str:
    """Entities a site escaped twice (`&amp;quot;` in the page is `&quot;` once parsed)."""
    return html.unescape(text) if "&" in text else text


def _agrees(printed: datetime, structured: datetime) -> bool:
    """A printed time and a metadata time that tell the same publication: close, or the
    metadata gives the day only (midnight) and the printed time falls on it."""
    if abs(printed - structured) <= PRINTED_VS_META:
        return True
    return (structured.hour, structured.minute, structured.second) == (0, 0, 0) and printed.date() == structured.date()


def _has_time(raw: str) -> bool:
    return ":" in raw or "시" in raw


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for item in value for n in _ld_names(item)]
    return []


class GenericArticlePage:
    """A page of a domain no outlet spec knows: every field from generic extraction."""

    def __init__(self, url: str, html: str | bytes, outlet: Any | None = None, *, content_type: str | None = None,
                 now: datetime | None = None) -> None:
        self.page = ArticlePage(url, html, outlet, content_type=content_type)
        self.fields = GenericFields(self.page, now)

    def to_article(self) -> Article:
        page, fields = self.page, self.fields
        title, title_src = fields.title()
        published, pub_src = fields.published()
        modified, mod_src = fields.modified()
        body, body_src = fields.body()
        authors, auth_src = fields.structured_authors()
        if not authors:  # a lead or trailer credit in the body, else a credit element on the page
            authors = list(dict.fromkeys(a for b in fields.body_bylines for a in b.authors))
            auth_src = "text" if authors else "none"
        if not authors:
            authors, auth_src = fields.printed_authors()
        bylines = fields.credit_bylines + fields.body_bylines
        region = next((b.region for b in reversed(bylines) if b.region), None)
        wire = next((b.wire for b in bylines if b.wire), None)
        canonical = page.link_canonical() or page.meta("og:url") or page.url
        try:
            canonical = canonicalize_url(canonical, force_https=False)
        except ValueError:
            canonical = page.url
        provenance = {"title": title_src, "published": pub_src, "authors": auth_src, "body": body_src}
        if modified is not None:
            provenance["modified"] = mod_src
        doubts = ([] if title else ["no title"]) + ([] if published else ["no date"]) + fields.doubts
        if doubts:
            provenance["quality"] = low_quality(doubts)
        section = page.meta("article:section")
        return Article(
            outlet="unknown",
            url=page.url,
            canonical_url=canonical,
            title=title or "",
            body=body,
            sections=[section] if section else [],
            published=published,
            modified=modified,
            authors=authors,
            region=region,
            wire=wire,
            provenance=provenance,
        )


def low_quality(doubts: list[str]) -> str:
    """provenance["quality"] of an extraction in doubt: `low: short body, no date`."""
    return "low: " + ", ".join(dict.fromkeys(doubts))
