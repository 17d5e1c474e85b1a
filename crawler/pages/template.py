"""Template-driven article pages: one class for every outlet whose template is data.

Korean regional papers run on a handful of CMSs whose article templates differ only in
where they put each field; the parsing rules (labelled dates, reporter trailers, wire leads,
photo captions, copyright lines) are the same everywhere. So an outlet names its family's
template (crawler/outlets/families.toml), maybe overrides a selector, and gets this class;
only a site that is truly different subclasses it.

Fields the template cannot find come from crawler.pages.generic (JSON-LD, meta tags,
trafilatura for the body), and `provenance` records where each field came from: a field
that moves from "selector" to a fallback is the first sign that a site changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Mapping

from selectolax.lexbor import LexborNode

from crawler.items import Article, Image, PrintEdition
from crawler.pages.base import ArticlePage, block_lines
from crawler.pages.generic import GenericFields, low_quality
from crawler.text.bylines import Byline, is_byline_line, parse_byline, strip_wire_lead
from crawler.text.clean import is_copyright_line, join_body, normalize_text
from crawler.text.dates import LabelledDate, find_datetimes, find_labelled_dates

# A body shorter than this from the template is treated as a miss (a changed template often
# leaves a container that holds only a caption or a share bar).
MIN_TEMPLATE_BODY = 120
MAX_CAPTION = 400
DEFAULT_STOP_LINES = ("기자의 다른기사 보기", "관련기사", "랭킹뉴스", "많이 본 뉴스", "헤드라인 뉴스", "실시간 뉴스", "포토뉴스")
DEFAULT_STRIP = ("table", "figure", "figcaption", ".caption", "iframe", "ins", ".ad", ".ads")
# Elements that end the body wherever they sit in it: everything after them is not article text.
DEFAULT_STOP_AT = (".copyright", ".view-copyright", ".article-copyright", ".articleCopyright", ".copy_text",
                   ".view-editors", ".article-copy", ".related", ".relation_news", ".news_relation")
_STOP = "\ue000"  # private-use sentinel put where a stop_at element was
# Trailing body lines that are not article text: a bare e-mail, promo links (▶ 구독하기),
# photo credits (/사진=세종시 제공) and notes (※ 이 기사는 ... 지원을 받았습니다).
_TRAILING_JUNK = re.compile(
    r"^(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.?|[▶☞►◎※].*|\[.{0,40}구독.{0,20}\]|/?\s?\(?사진\s?[=:].{0,60}\)?)$"
)
# A reporter credit glued to the end of the last sentence: `...기록했다. /이수빈 기자 subin@...`.
_GLUED_TRAILER = re.compile(r"(?<=[.!?\"”’)])\s+(?P<credit>/?\s?[가-힣=·,\s]{2,40}?(?:기자|특파원|논설위원)(?:\s+[\w.+-]+@[\w.-]*)?)$")
# Breadcrumb roots that are not sections.
_HOME = {"홈", "home", "메인", "main", "뉴스", "news", "전체기사"}
# Bullets some outlets print before each deck line (`- `, `· `, `▶ `).
_BULLET = re.compile(r"^[-–—·•▶■□◆◇△▲○●]\s*")


@dataclass(frozen=True)
class PageTemplate:
    """Where a CMS family prints each field (see families.toml for the meaning of each key)."""

    name: str
    title: tuple[str, ...] = ()
    subtitle: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    info: tuple[str, ...] = ()
    byline: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    strip: tuple[str, ...] = DEFAULT_STRIP
    caption: tuple[str, ...] = ("figcaption", ".caption")
    stop_lines: tuple[str, ...] = DEFAULT_STOP_LINES  # added to the defaults, never replacing them
    stop_at: tuple[str, ...] = DEFAULT_STOP_AT
    site_suffixes: tuple[str, ...] = ()
    list_links: tuple[str, ...] = ()  # list pages: the article links (navigation, read by spiders)
    skip_images: tuple[str, ...] = (
        "/reporter/", "/newsroom/", "default-user", "/profile/", "/banner/", "/icon", "/btn_", "/ad/", "blank.gif", "spacer.gif",
    )

    @classmethod
    def from_mapping(cls, name: str, data: Mapping[str, Any], base: "PageTemplate | None" = None) -> "PageTemplate":
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"template {name!r}: unknown keys {sorted(unknown)}; expected some of {sorted(known)}")
        values = {f.name: getattr(base, f.name) for f in fields(cls)} if base else {}
        values.update({key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})
        if "stop_lines" in data:
            values["stop_lines"] = tuple(dict.fromkeys(DEFAULT_STOP_LINES + tuple(data["stop_lines"])))
        values["name"] = name
        return cls(**values)


@dataclass
class BodyParts:
    paragraphs: list[str] = field(default_factory=list)
    bylines: list[Byline] = field(default_factory=list)  # wire lead first, then trailers


class TemplateArticlePage(ArticlePage):
    """An article page parsed by its outlet's template, with generic fallback per field."""

    template: PageTemplate

    def __init__(self, url: str, html: str | bytes, outlet: Any | None = None, *,
                 template: PageTemplate | None = None, content_type: str | None = None) -> None:
        super().__init__(url, html, outlet, content_type=content_type)
        if template is None:
            if outlet is None:
                raise ValueError("TemplateArticlePage needs an outlet spec or a template")
            template = outlet.template()
        self.template = template

    # -- selectors -----------------------------------------------------------------------
    def select_text(self, selector: str) -> str | None:
        """Text of the first match; `css@attr` reads an attribute (`meta[property="og:title"]@content`)."""
        css, _, attr = selector.partition("@")
        if not attr:
            return self.css_text(css)
        node = self.tree.css_first(css)
        value = node.attributes.get(attr) if node is not None else None
        return normalize_text(value) or None if value else None

    def first_text(self, selectors: tuple[str, ...]) -> str | None:
        for selector in selectors:
            text = self.select_text(selector)
            if text:
                return text
        return None

    def first_node(self, selectors: tuple[str, ...]) -> LexborNode | None:
        for selector in selectors:
            node = self.tree.css_first(selector)
            if node is not None:
                return node
        return None

    @cached_property
    def generic(self) -> GenericFields:
        return GenericFields(self)

    # -- fields --------------------------------------------------------------------------
    def title(self) -> tuple[str | None, str]:
        text = self.first_text(self.template.title)
        if text:
            return text, "selector"
        value, source = self.generic.title()
        return (_strip_suffix(value, self.template.site_suffixes) if value else None), source

    def subtitle(self) -> str | None:
        """The deck; several printed lines stay separate lines (bullets dropped)."""
        for selector in self.template.subtitle:
            nodes = self.tree.css(selector)
            lines = [_BULLET.sub("", normalize_text(line)) for node in nodes for line in block_lines(node)]
            lines = [line for line in lines if line]
            if lines:
                return "\n".join(dict.fromkeys(lines))
        return None

    def sections(self) -> list[str]:
        for selector in self.template.sections:
            names = [" ".join(n.text().split()) for n in self.tree.css(selector)]
            names = [n for n in names if n and n.lower() not in _HOME]
            if names:
                return list(dict.fromkeys(names))
        section = self.meta("article:section")
        return [section] if section else []

    @cached_property
    def info_dates(self) -> list[LabelledDate]:
        """Labelled dates from the info containers; a bare date there counts as published."""
        unlabelled: list[LabelledDate] = []
        for selector in self.template.info:
            nodes = self.tree.css(selector)
            text = " ".join(normalize_text(line) for node in nodes for line in block_lines(node))
            dates = find_labelled_dates(text)
            if dates:
                return dates
            if not unlabelled:
                unlabelled = [LabelledDate("published", "", value, None, text) for value in find_datetimes(text)[:1]]
        return unlabelled

    def header_byline(self) -> Byline | None:
        """The reporter credit(s) in the header; several credit elements are merged."""
        for selector in self.template.byline:
            found: list[Byline] = []
            for node in self.tree.css(selector):
                text = normalize_text(node.text(separator=" "))
                if not text or find_labelled_dates(text):
                    continue
                byline = parse_byline(text) or parse_byline(f"{text} 기자")
                if byline and (byline.authors or byline.wire):
                    found.append(byline)
            if found:
                merged = Byline(authors=[], region=None, wire=None, emails=[])
                for byline in found:
                    merged.authors.extend(a for a in byline.authors if a not in merged.authors)
                    merged.region = merged.region or byline.region
                    merged.wire = merged.wire or byline.wire
                    merged.emails.extend(byline.emails)
                return merged
        return None

    @cached_property
    def body_node(self) -> LexborNode | None:
        return self.first_node(self.template.body)

    @cached_property
    def images(self) -> list[Image]:
        if self.body_node is None:
            return []
        found: list[Image] = []
        seen: set[str] = set()
        for img in self.body_node.css("img"):
            src = self.absolute(img.attributes.get("data-src") or img.attributes.get("src"))
            if not src or not src.startswith(("http://", "https://")) or len(src) > 2000:
                continue  # data:, javascript: and the like are not photos we can keep
            if src in seen or any(part in src for part in self.template.skip_images):
                continue
            seen.add(src)
            found.append(Image(src=src, caption=self._caption_for(img)))
        return found

    def _caption_for(self, img: LexborNode) -> str | None:
        node = img.parent
        while node is not None and node.tag not in ("table", "figure", "body") and not _is_photo_box(node):
            node = node.parent
        if node is None or node.tag == "body":
            return None
        for selector in self.template.caption:
            cap = node.css_first(selector)
            if cap is not None:
                text = normalize_text(cap.text(separator=" "))
                if text:
                    return text
        if node.tag == "table":  # caption in another cell of the photo table
            cells = [normalize_text(td.text()) for td in node.css("td") if td.css_first("img") is None]
            text = " ".join(c for c in cells if c)
            return text or None
        if _is_photo_box(node):  # a photo div: its own short text is the caption
            text = normalize_text(node.text(separator=" "))
            return text if 0 < len(text) <= MAX_CAPTION else None
        return None

    @cached_property
    def body_parts(self) -> BodyParts:
        if self.body_node is None:
            return BodyParts()
        node = self.body_node.clone()  # images are read from the untouched original
        for selector in self.template.stop_at:
            for stop in node.css(selector):
                if stop.mem_id != node.mem_id:
                    stop.replace_with(_STOP)
        for selector in self.template.strip:
            for junk in node.css(selector):
                if junk.mem_id != node.mem_id:  # css() matches the container itself too
                    junk.decompose()
        for box in node.css("div, span, p, dl"):
            # a photo box (class photo/img/...) holding an image: its text is a caption
            if box.mem_id != node.mem_id and _is_photo_box(box) and box.css_first("img") is not None:
                box.decompose()
        stops = set(self.template.stop_lines)
        paragraphs: list[str] = []
        for raw in block_lines(node):
            line = normalize_text(raw.split(_STOP, 1)[0])
            if line and (is_copyright_line(line) or line in stops):
                break
            if line:
                paragraphs.append(line)
            if _STOP in raw:
                break
        bylines: list[Byline] = []
        if paragraphs:
            glued = _GLUED_TRAILER.search(paragraphs[-1])
            if glued and is_byline_line(glued.group("credit")):
                paragraphs[-1] = paragraphs[-1][: glued.start()].rstrip()
                paragraphs.append(glued.group("credit"))
        while paragraphs:
            last = paragraphs[-1]
            if is_byline_line(last):
                byline = parse_byline(paragraphs.pop())
                if byline:
                    bylines.insert(0, byline)
            elif _TRAILING_JUNK.match(last):
                paragraphs.pop()
            else:
                break
        if paragraphs:
            rest, lead = strip_wire_lead(paragraphs[0])
            if lead is not None:
                bylines.insert(0, lead)
                if rest:
                    paragraphs[0] = rest
                else:
                    paragraphs.pop(0)
        return BodyParts(paragraphs, bylines)

    # -- the article ---------------------------------------------------------------------
    def to_article(self) -> Article:
        provenance: dict[str, str] = {}
        title, provenance["title"] = self.title()

        dates = self.info_dates
        published = next((d.value for d in dates if d.kind == "published"), None)
        modified = next((d.value for d in reversed(dates) if d.kind == "modified"), None)
        provenance["published"] = "selector"
        if published is None:
            published, provenance["published"] = self.generic.published()
        if modified is not None:
            provenance["modified"] = "selector"
        elif not dates:
            # Only when the page prints no dates at all: a printed 입력 without 수정 means the
            # outlet shows no correction, and a CMS's dateModified (often its last touch of
            # the record) must not invent one.
            modified, source = self.generic.modified()
            if modified is not None and modified != published:
                provenance["modified"] = source
            else:
                modified = None
        printed = next((d for d in dates if d.kind == "print"), None)
        print_edition = PrintEdition(date=printed.value.date().isoformat(), page=printed.page) if printed else None
        if print_edition is None and self.outlet is not None:
            print_edition = self.outlet.print_edition_from_url(self.url)

        parts = self.body_parts
        body = join_body(parts.paragraphs)
        body_bylines = list(parts.bylines)
        provenance["body"] = "selector"
        if len(body) < MIN_TEMPLATE_BODY:
            fallback, source = self.generic.body()
            if len(fallback) > len(body):
                body, provenance["body"] = fallback, source
                body_bylines = list(self.generic.body_bylines)
                if self.generic.doubts:  # the fallback is unsure of what it found: say so
                    provenance["quality"] = low_quality(self.generic.doubts)
            elif not body:
                provenance["body"] = "none"
                provenance["quality"] = low_quality(["no body"])

        header = self.header_byline()
        authors: list[str] = []
        for byline in ([header] if header else []) + body_bylines:
            authors.extend(a for a in byline.authors if a not in authors)
        provenance["authors"] = "selector" if header and header.authors else ("text" if authors else "none")
        credits: list[Byline] = []
        if not authors:
            authors, source = self.generic.authors()
            if authors:
                provenance["authors"] = source
                credits = self.generic.credit_bylines  # the credit it read also gives a dateline
        bylines = ([header] if header else []) + credits + body_bylines
        region = next((b.region for b in reversed(bylines) if b.region), None)
        wire = next((b.wire for b in bylines if b.wire), None)

        canonical = self.outlet.canonicalize(self.url) if self.outlet is not None else self.url
        return Article(
            outlet=self.outlet.name if self.outlet is not None else self.template.name,
            url=self.url,
            canonical_url=canonical,
            title=title or "",
            subtitle=self.subtitle(),
            sections=self.sections(),
            published=published,
            modified=modified,
            print_edition=print_edition,
            authors=authors,
            region=region,
            wire=wire,
            body=body,
            images=self.images,
            provenance=provenance,
        )


def _is_photo_box(node: LexborNode) -> bool:
    classes = (node.attributes.get("class") or "").lower()
    return any(word in classes for word in ("photo", "img", "image", "figure", "pic"))


def _strip_suffix(title: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if title.endswith(suffix):
            return title[: -len(suffix)].strip()
    return title.strip()
