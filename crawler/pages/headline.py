"""A headline without the site's name: `제목 - 매체명 뉴스`, `매체명 | 제목`, `[매체명] 제목` -> `제목`.

Meta titles (og:title, <title>, sometimes the JSON-LD headline) carry the site's name; the
article's own tags (`[속보]`, `[단독]`, `(2보)`) stay. A piece of a title names the site when it
is a name the page gives itself (og:site_name and the like, JSON-LD publisher, what <title>
adds around og:title), a word of the host (`KBS News` on news.kbs.co.kr), or, beside a
separator, a publication's name (`OO일보`, `매체명 뉴스`).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from crawler.pages.base import ArticlePage
from crawler.text.clean import normalize_text

SITE_META = ("og:site_name", "application-name", "twitter:site", "publisher", "copyright")
# What separates a headline from the site's name in <title> and og:title.
_TITLE_SEP = re.compile(r"\s+(?:[-|:<>–—·｜ㅣ]|::|<<|>>)\s+")
# A bracket opening a headline: `[매체명] 제목` (site) or `[속보] 제목` (the article's own tag).
_TITLE_BRACKET = re.compile(r"^\s*[\[【〔<]\s*(?P<tag>[^\]】〕>]{1,24}?)\s*[\]】〕>]\s*(?P<rest>.+)$")
# Tags that belong to the headline, never a site's name even where they end in 뉴스.
_ARTICLE_TAGS = re.compile(r"속보|단독|사설|포토|사진|칼럼|기고|인터뷰|종합|영상|르포|기획|특집|시론|오피니언|현장|이슈|"
                           r"수첩|인사|부고|알림|해설|분석|리뷰|연재|카드|그래픽|팩트|\d+\s?보|동정|게시판|날씨|사고")
# A segment that names a publication: `매체명 뉴스`, `OO일보`, `KBS News`.
_BRAND = re.compile(r"(?:일보|신문|뉴스|뉴스1|방송|타임스|타임즈|투데이|데일리|매일|저널|통신|미디어|닷컴|TV|News|Times|Daily|\.com|\.co\.kr|\.kr)$",
                    re.IGNORECASE)
# NDSoft <title>: `제목 < 섹션 < 기사본문 - 매체명`.
_BREADCRUMB_TAIL = re.compile(r"\s+<\s+.*(?:기사본문|본문).*$")


class SiteNames:
    """The names a page gives its site, and a title cleaned of them."""

    def __init__(self, page: ArticlePage, ld: dict[str, Any]) -> None:
        self.page = page
        self.ld = ld

    @cached_property
    def site_names(self) -> set[str]:
        """Names the site calls itself: og:site_name and the like, JSON-LD publisher, and what
        <title> adds around og:title (`og:title - 매체명`)."""
        names: set[str] = set()
        for name in SITE_META:
            value = self.page.meta(name)
            if value and len(value) <= 40 and not value.startswith("http"):
                names.add(normalize_text(value.lstrip("@")))
        publisher = self.ld.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            names.add(normalize_text(publisher["name"]))
        og, title = self.page.meta("og:title"), self.page.css_text("title")
        if og and title:
            og, title = normalize_text(og), normalize_text(title)
            if title != og and title.startswith(og):
                extra = _TITLE_SEP.split(title[len(og):], maxsplit=1)
                if len(extra) == 2 and not extra[0] and extra[1]:
                    names.add(_TITLE_SEP.split(extra[1])[-1])
            elif title != og and title.endswith(og):
                extra = _TITLE_SEP.split(title[: -len(og)])
                if len(extra) == 2 and extra[0] and not extra[1]:
                    names.add(extra[0])
        names.discard("")
        return names

    @cached_property
    def _host_words(self) -> set[str]:
        host = (urlsplit(self.page.url).hostname or "").lower()
        return {part for part in host.split(".") if len(part) >= 3 and part not in ("www", "com", "net", "org", "news")}

    def is_site_segment(self, segment: str, bracketed: bool = False) -> bool:
        """Does this piece of a headline name the site rather than the story?"""
        seg = segment.strip()
        if not seg or len(seg) > 30:
            return False
        if bracketed and _ARTICLE_TAGS.search(seg):
            return False
        folded = seg.lower().replace(" ", "")
        for name in self.site_names:
            name_folded = name.lower().replace(" ", "")
            if name_folded and (name_folded == folded or (len(name_folded) >= 2 and name_folded in folded and len(folded) <= len(name_folded) + 8)):
                return True
        latin = re.sub(r"[^a-z0-9]", "", folded)
        if latin and len(latin) >= 3 and any(latin.startswith(word) or word.startswith(latin) for word in self._host_words):
            return True
        if bracketed or _ARTICLE_TAGS.search(seg):
            return False  # `[실시간 e뉴스]`, `[카드뉴스]`: a bracket names the site only by its own name
        return _BRAND.search(seg) is not None and len(seg) <= 20 and seg.count(" ") <= 2

    def without_site_name(self, title: str) -> str:
        """`제목 - 매체명 뉴스`, `매체명 | 제목`, `[매체명] 제목` -> `제목`; `[속보] 제목` is kept."""
        title = _BREADCRUMB_TAIL.sub("", title).strip() if "기사본문" in title or "본문" in title else title
        for _ in range(3):
            parts = _TITLE_SEP.split(title)
            seps = _TITLE_SEP.findall(title)
            if len(parts) > 1 and self.is_site_segment(parts[-1]):
                title = title[: title.rfind(seps[-1])].strip()
                continue
            if len(parts) > 1 and self.is_site_segment(parts[0]):
                title = title[title.find(seps[0]) + len(seps[0]):].strip()
                continue
            bracket = _TITLE_BRACKET.match(title)
            if bracket and self.is_site_segment(bracket.group("tag"), bracketed=True):
                title = bracket.group("rest").strip()
                continue
            break
        return title
