"""Article text from any page: the densest block, trafilatura, and the Korean rules at both ends.

The generic fallback's body (crawler.pages.generic), apart because it is the bulk of what
the fallback does: two extractors whose results are merged, then cleanup of what sits above
the story (headline, deck, date, buttons, a lead byline) and after it (trailers, notices,
prompts, copyright, the blocks that follow an article).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from selectolax.lexbor import LexborNode

from crawler.pages.base import ArticlePage, block_lines
from crawler.text.bylines import (
    Byline,
    is_byline_line,
    parse_byline,
    parse_signoff,
    strip_wire_lead,
)
from crawler.text.clean import (
    is_copyright_line,
    is_end_heading,
    is_prose,
    is_script_marker,
    is_trailing_chrome,
    join_body,
    normalize_text,
)

MIN_BODY = 100  # a body shorter than this is flagged: a teaser, a photo page or a miss
DENSE_WITHIN = 0.9  # this share of the block's text in trafilatura's: the block is inside its text
MIN_BLOCK = 80  # characters of its own a block needs to be a body (a three-sentence brief has 130)
TRAFILATURA_COVERED = 0.8  # the dense block holds this share of trafilatura's text: same region
# A reporter credit glued to the end of the last sentence (`...했다. /홍길동 기자 hong@`), or an
# address glued there (`...밝혔다. kdy@yna.co.kr`).
_GLUED_TAIL = re.compile(r"(?<=[.!?\"”’)])\s+(?P<tail>/?\s?[가-힣=·,\s]{2,40}?(?:기자|특파원|논설위원)(?:\s+[\w.+-]+@[\w.-]*)?"
                         r"|[\[(<]?/?\s?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[\])>]?|[(/]?\s?사진\s?[=:]\s?[^.!?]{1,40}"
                         r"|(?:[A-Z]{2,6}|TV[가-힣]{2,4}|[가-힣A-Z]{2,8}(?:TV|방송|뉴스))\s?(?:뉴스\s?)?[가-힣]{2,4}입니다\.)$")
# A trailer naming several places before the credit, no `=`: `순천, 광양 구현모 기자 ninek@` (the
# reporter is kept; which place is the dateline is not said).
_PLACES_CREDIT = re.compile(r"(?:[가-힣]{2,6}[,·]?\s){1,3}(?P<credit>[가-힣]{2,4}\s?기자(?:\s+[\w.+-]+@[\w.-]*)?)")
# The reporter, then the photo's source: `백승훈 / 사진제공 쿠팡플레이` (entertainment sites).
_NAME_THEN_PHOTO = re.compile(r"(?P<name>[가-힣]{2,4})\s?/\s?사진\s?(?:제공|출처|=|:).{0,30}")
_MEDIA_CREDIT = re.compile(r"[(\[]?\s?(?:사진|영상|그래픽|촬영)\s?[=:：]")
_HAS_SENTENCE = re.compile(r"[다요까죠][.!?\"'”’]")
_SHORT_SENTENCE = re.compile(r"^.{3,}(?:[다까죠][.!?]|요[.!?])$")
# A copyright notice (not a bare ⓒ credit): nothing after it is the story, wherever it stands.
_HARD_END = re.compile(r"무단|재배포|저작권|rights\s+reserved|AI\s*학습", re.IGNORECASE)
MAX_HEAD_DROP = 8  # lines above the story (headline, deck, date, share buttons) dropped at most


def clean_body_lines(lines: list[str], bylines: list[Byline] | None = None, title: str | None = None) -> str:
    """Body text from generic extractors, with the Korean rules applied at both ends.

    The body ends at a copyright line or the heading of a block after the story (관련기사,
    기자의 다른기사); at its top, the headline, deck, date and button lines above the story go,
    and a lead byline (`[매체=홍길동 기자]`, `(서울=연합뉴스) 홍길동 기자 =`) is cut from the
    paragraph it opens, which stays; at its end, reporter trailers, notices (정정·반론보도,
    고충처리인), prompts (구독, 좋아요, 제보) and bare addresses go. The bylines removed are
    appended to `bylines` when given, so generic extraction still learns the authors and the
    dateline region.
    """
    found = bylines if bylines is not None else []
    paragraphs = until_end(lines)
    _trim_tail(paragraphs, found)
    _trim_head(paragraphs, found, title)
    return join_body(paragraphs)


def until_end(lines: list[str]) -> list[str]:
    """Normalized non-empty lines up to the end of the story: a copyright notice, or the
    heading of a block after it. A bare credit (`ⓒ 홍길동`) or a menu heading above the first
    sentence is skipped instead, so a photo credit over the story does not end it."""
    paragraphs: list[str] = []
    seen_prose = False
    for raw in lines:
        line = normalize_text(raw)
        if not line:
            continue
        if is_copyright_line(line) or is_end_heading(line):
            if seen_prose or _HARD_END.search(line):
                break
            continue
        if is_script_marker(line):
            continue
        seen_prose = seen_prose or is_prose(line)
        paragraphs.append(line)
    return paragraphs


def _trim_tail(paragraphs: list[str], found: list[Byline]) -> None:
    trailers: list[Byline] = []
    while paragraphs:
        last = paragraphs[-1]
        glued = _GLUED_TAIL.search(last)
        if glued is not None and len(paragraphs[-1]) > glued.end("tail") - glued.start("tail"):
            paragraphs[-1] = last[: glued.start()].rstrip()
            paragraphs.append(glued.group("tail"))
            continue
        placed = _PLACES_CREDIT.fullmatch(last)
        credit = last if is_byline_line(last) else placed.group("credit") if placed is not None else None
        signoff = parse_signoff(last)
        if signoff is None and (named := _NAME_THEN_PHOTO.fullmatch(last)) is not None:
            signoff = parse_byline(named.group("name") + " 기자")  # `백승훈 / 사진제공 쿠팡플레이`
        if signoff is not None:
            paragraphs.pop()
            trailers.insert(0, signoff)
        elif credit is not None and is_byline_line(credit):
            paragraphs.pop()
            byline = parse_byline(credit)
            if byline is not None and not _MEDIA_CREDIT.match(credit):  # a photographer is no author
                trailers.insert(0, byline)
        elif is_trailing_chrome(last) or (len(paragraphs) > 1 and len(last) < 40 and not _HAS_SENTENCE.search(last)):
            paragraphs.pop()
        else:
            break
    found.extend(trailers)


def _trim_head(paragraphs: list[str], found: list[Byline], title: str | None) -> None:
    """Drop what sits above the story (headline, deck lines, date, `가가` buttons, a credit line)
    and cut a lead byline from the paragraph it opens; only while a sentence follows."""
    dropped = 0
    while paragraphs and dropped < MAX_HEAD_DROP:
        first = paragraphs[0]
        rest, lead = strip_wire_lead(first)
        if lead is not None:
            found.insert(0, lead)
            if rest:
                paragraphs[0] = rest
            else:
                paragraphs.pop(0)
            return
        if is_byline_line(first):
            byline = parse_byline(paragraphs.pop(0))
            if byline is not None:
                found.insert(0, byline)
            dropped += 1
            continue
        above = first == title or not _opens_story(first) or is_trailing_chrome(first)
        if above and len(first) < 200 and any(is_prose(p) for p in paragraphs[1:]):
            paragraphs.pop(0)
            dropped += 1
            continue
        return


def _opens_story(line: str) -> bool:
    """A sentence, or a piece of one: broadcast scripts break lines mid-sentence
    (`동글동글 귀여운 모양과 붉은 색깔,`) and ask short questions (`눈치채셨나요?`)."""
    return (is_prose(line) or (len(line) >= 10 and line.endswith(",")) or _SHORT_SENTENCE.search(line) is not None
            or (len(line) >= 40 and _HAS_SENTENCE.search(line) is not None))  # a sentence, then a stray word


def merge_extractions(dense: list[str], traf: list[str], traf_anchored: bool = False) -> tuple[list[str], str]:
    """One body from the densest block's lines and trafilatura's, and which method it is.

    When the dense block holds trafilatura's text they found the same story: the block's
    lines are taken in its order, and its lines trafilatura left out only when they read as
    sentences (a bare-text first paragraph, a lead byline paragraph) or carry a byline.
    Otherwise, when the page's summary opens trafilatura's text (`traf_anchored`) it found
    the story; when trafilatura's text holds the whole block and more, the block is the story
    and the rest is what surrounds it; else the longer wins only when clearly longer
    ("disagree" says neither is sure).
    """
    if not dense:
        return traf, "trafilatura" if traf else "none"
    if not traf:
        return dense, "density"
    traf_text = "\n".join(traf)
    inside = [line in traf_text for line in dense]
    covered = sum(len(line) + 1 for line, ok in zip(dense, inside) if ok)
    if covered >= TRAFILATURA_COVERED * len(traf_text):
        kept = [line for line, ok in zip(dense, inside) if ok or is_prose(line) or is_byline_line(line)
                or strip_wire_lead(line)[1] is not None]
        return kept, "density"
    if traf_anchored:
        return traf, "trafilatura"
    dense_len = sum(map(len, dense))
    within = sum(len(line) for line, ok in zip(dense, inside) if ok)
    if within >= DENSE_WITHIN * dense_len and sum(map(is_prose, dense)) >= 3:
        # the block's story is all in trafilatura's text, which also holds more (a headline,
        # a deck, teasers of other stories): the block is the story's own container
        return dense, "density"
    if dense_len > 1.5 * len(traf_text):
        return dense, "density"
    if dense_len >= MIN_BODY and covered < 0.3 * len(traf_text) and dense_len > 0.5 * len(traf_text):
        return [], "disagree"
    return traf, "trafilatura"


_DENSITY_CANDIDATES = "div, article, section, td, main"
_NOT_TEXT = "script, style, noscript, table, figure, figcaption, iframe, form, nav, header, footer, aside, ul, ol, button"
_TEXT_CHILDREN = frozenset({"p", "span", "font", "b", "strong"})  # children whose text is the block's own
_PHOTO_WORDS = ("photo", "img", "image", "figure", "pic", "caption", "quote")  # and pull quotes


def densest_block_lines(page: ArticlePage) -> list[str]:
    """Text lines of the element holding the most text of its own (text nodes and <p> children).

    Link-heavy blocks (menus, related-article lists) score low because text inside <a> is not
    counted. Photo boxes (a class naming a photo or caption, holding an image) are dropped.
    Cheap: one pass over candidate elements with selectolax.
    """
    best, best_score = None, 0
    for node in page.tree.css(_DENSITY_CANDIDATES):
        score = 0
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                score += len((child.text_content or "").strip())
            elif child.tag in _TEXT_CHILDREN:
                score += len(child.text(deep=True).strip()) - sum(len(a.text()) for a in child.css("a"))
        if score > best_score:
            best, best_score = node, score
    if best is None or best_score < MIN_BLOCK:
        return []
    clone = best.clone()
    for junk in clone.css(_NOT_TEXT):
        if junk.mem_id != clone.mem_id:
            junk.decompose()
    for box in clone.css("div, span, p, dl"):
        if box.mem_id != clone.mem_id and _is_photo_box(box):
            box.decompose()
    return block_lines(clone)


def densest_block_text(page: ArticlePage, bylines: list[Byline] | None = None) -> str:
    """The densest block's text, cleaned (see densest_block_lines and clean_body_lines)."""
    lines = densest_block_lines(page)
    return clean_body_lines(lines, bylines) if lines else ""


def _is_photo_box(node: LexborNode) -> bool:
    classes = (node.attributes.get("class") or "").lower()
    if not any(word in classes for word in _PHOTO_WORDS):
        return False
    return node.css_first("img") is not None or len(node.text()) <= 300


def trafilatura_text(html: str) -> str:
    """Main text by trafilatura (imported on first use: it is the slow path, and a process
    whose pages all match their templates never loads it)."""
    import trafilatura

    with warnings.catch_warnings():  # trafilatura 2.x's own FutureWarning about lxml truth tests
        warnings.simplefilter("ignore", FutureWarning)
        return _trafilatura_extract(trafilatura, html)


def _trafilatura_extract(trafilatura: Any, html: str) -> str:
    return trafilatura.extract(
        html,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
        deduplicate=False,
        with_metadata=False,
    ) or ""
