"""The text a story is recognised by: the body without what differs between reprints.

Regional papers reprint wire copy and press releases with their own lead-in, byline,
reporter trailer, e-mail and copyright line, photo captions glued to the first paragraph,
"subscribe" and "more articles" blocks at the end, and with spacing, punctuation and number
styles of their own (1천300만 vs 1300만 vs 13,000,000). None of that says which story it is,
so it is removed before shingling; what is left is Hangul, Latin letters and digits, run
together (whitespace does not separate Korean words reliably anyway: particles attach to
nouns).

Sentences are kept apart (story_sentences) because the near-duplicate test looks at how
each sentence of one copy is covered by the other: a desk paraphrase touches every
sentence a little, a follow-up adds whole new sentences to a verbatim background block.
The lead's day numbers (lead_days) tell two days' reports apart.
"""

from __future__ import annotations

import re

from crawler.text.bylines import is_byline_line, strip_wire_lead
from crawler.text.clean import is_copyright_line

SHINGLE = 5  # characters; Korean syllables carry a lot, so 5 is already phrase-like
MIN_SENTENCE_CHARS = 8  # shorter pieces ("1.", a stray quote) join the previous sentence
# Bylines (80 characters) and copyright lines (200, normalized) are short: a longer paragraph is body
# text, and the parsers would first normalize all of it to find that out.
EDGE_LINE_MAX = 240
_EMAIL_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w.-]+)?")
_EMAIL_LOCAL = re.compile(r"[\w.+-]{1,64}\Z")
_NOT_WORD = re.compile(r"[^0-9A-Za-z\uac00-\ud7a3]+")
_NOT_WORD_OR_BAR = re.compile(r"[^0-9A-Za-z\uac00-\ud7a3|]+")
# Digit groups, matched at the start of a digit run: 13,500 -> 13500; 7천632 -> 7632,
# 4천10 -> 4010, 8천만 -> 8000만; 5만2140 -> 52140 (not 1.5천, not the 5 of 15천)
_THOUSANDS_AT = re.compile(r"(\d+),(?=\d{3})")
_KO_THOUSAND_AT = re.compile(r"(\d{1,3})천(?:\s?(\d{1,3})(?![\d.백]))?")
_KO_MYRIAD_AT = re.compile(r"(\d{1,4})만\s?(\d{1,4})(?![\d.])")

# A tag at the very start of the body: "[경인일보=신지영 기자]", "[광양/전라도뉴스]",
# "【서울=뉴시스】", "(왼쪽부터)"; wire leads of the "[대전=뉴시스] 김양수 기자 =" form are
# strip_wire_lead's job and go first.
_LEAD_TAG = re.compile(
    r"\s*(?:\[[^\]\n]{1,40}\]|【[^】\n]{1,40}】|\((?=[^)\n]{0,40}(?:기자|=|뉴스|제공|사진|왼쪽|오른쪽))[^)\n]{1,40}\))\s*"
)
_LEAD_REPORTER = re.compile(r"\s*[가-힣]{2,4}\s?(?:기자|특파원)\s*=\s*")
# Photo credits that end a caption: "연합뉴스", "국토부 제공", "경기일보DB", "/경기도 제공".
_CREDIT = (
    r"(?:/\s*)?(?:[가-힣A-Za-z0-9·]{1,15}\s?(?:제공|DB)|연합뉴스|뉴시스|뉴스1|클립아트코리아"
    r"|게티이미지(?:뱅크)?|셔터스톡|AI\s?뉴스\s?이미지)"
)
# A caption glued to the start of the first paragraph, up to its credit.
_LEAD_CAPTION = re.compile(r"(?:▲\s*)?[^\n]{0,250}?[.)\]]\s*" + _CREDIT + r"\s+(?=\S)")
# A caption inside the text: a short phrase that is not a sentence (no 다 before the
# period), then a credit; found by its credit (rare), then checked backwards.
_CREDIT_AFTER_PERIOD = re.compile(r"\.\s*" + _CREDIT + r"(?=\s|$)")
MAX_CAPTION_CHARS = 80
_INLINE_NOISE = re.compile(r"이미지\s?크게\s?보기|사진\s?확대|\(사진\s?=\s?[^)\n]{1,20}\)")
# Page furniture that ends the story when it appears in its last part.
_TRAILER = re.compile(
    r"다른\s?기사\s?보기|관련\s?기사\s?더\s?보기|네이버\s?TV\s?구독|유튜브\s?구독|구독\s?하기|기사\s?제보"
    r"|저작권자|무단\s?(?:전재|복제|배포)|[ⓒ©]|copyright",
    re.I,
)
_TRAILER_HINTS = ("기사", "구독", "저작권", "무단", "ⓒ", "©", "opyright", "OPYRIGHT")
TRAILER_ZONE = 0.6  # trailer markers count only after this share of the text
_CLOSERS = "\"'”’」』)]"
_SENTENCE_END = re.compile(r"[.?!][\"'”’」』)\]]{0,2}\s+|\n+")  # a period, up to two closing marks, a space


def story_text(body: str) -> str:
    """Body reduced to what identifies the story (see module docstring)."""
    return squash(story_clean(body))


def squash(clean: str) -> str:
    """Only letters and digits, lowercased: the text that is shingled."""
    return _NOT_WORD.sub("", clean).lower()


def story_clean(body: str) -> str:
    """The body without lead, captions, credits, e-mails, copyright lines and page
    trailers, figures normalized; paragraphs separated by newlines."""
    paragraphs = [p.strip() for p in (body or "").split("\n") if p.strip()]
    if paragraphs:
        paragraphs[0] = strip_lead(paragraphs[0])
    # credits and copyright lines sit at the ends; the strict byline parser is the costly
    # part of this function, so only the edges are checked
    edge = set(range(min(2, len(paragraphs)))) | set(range(max(0, len(paragraphs) - 4), len(paragraphs)))
    paragraphs = [p for i, p in enumerate(paragraphs) if p and (
        i not in edge or len(p) > EDGE_LINE_MAX or not (is_byline_line(p) or is_copyright_line(p)))]
    text = "\n".join(paragraphs)
    zone = int(len(text) * TRAILER_ZONE)
    if any(hint in text[zone:] for hint in _TRAILER_HINTS):  # rare: skip the regex scan otherwise
        trailer = _TRAILER.search(text, zone)
        if trailer is not None:
            text = text[: trailer.start()]
    text = drop_captions(text)
    text = _INLINE_NOISE.sub(" ", text)
    if "@" in text:
        text = drop_emails(text)
    return normalize_figures(text)


def drop_captions(text: str) -> str:
    """Without photo captions inside the text ("소규모주택정비사업 사례. 국토부 제공 이번 …"):
    a phrase of at most MAX_CAPTION_CHARS after a sentence end that does not end like a
    sentence (…다.), then a credit. Found by the credit (rare), then checked backwards."""
    pieces, kept = [], 0
    for credit in _CREDIT_AFTER_PERIOD.finditer(text):
        end = credit.start()  # the caption's period
        if end <= kept or text[end - 1] == "다":
            continue
        low = max(kept, end - MAX_CAPTION_CHARS)
        boundary = max(text.rfind(mark, low, end) for mark in (". ", "? ", "! ", "\n"))
        if boundary >= 0:
            start = boundary + 1
        elif low == kept:  # the text start, or right after the previous caption
            start = low
        else:
            continue  # no sentence end within reach: a long sentence, not a caption
        if not text[start:end].strip():
            continue
        pieces.append(text[kept:start])
        kept = credit.end()
    return "".join(pieces) + text[kept:] if pieces else text


def drop_emails(text: str) -> str:
    """Without e-mail addresses (reporter trailers glued to the last sentence)."""
    pieces, kept = [], 0
    for domain in _EMAIL_DOMAIN.finditer(text):
        local = _EMAIL_LOCAL.search(text, max(kept, domain.start() - 64), domain.start())
        if local is None:
            continue
        pieces.append(text[kept : local.start()])
        pieces.append(" ")
        kept = domain.end()
    return "".join(pieces) + text[kept:] if pieces else text


def strip_lead(paragraph: str) -> str:
    """The first paragraph without its wire lead, bracket tag, reporter credit or a photo
    caption glued in front of the story (a caption ends with its credit: "… 연합뉴스")."""
    text, _ = strip_wire_lead(paragraph)
    for _ in range(3):
        match = _LEAD_TAG.match(text) or _LEAD_REPORTER.match(text)
        if match is None:
            break
        text = text[match.end():]
    caption = _LEAD_CAPTION.match(text)
    if caption is not None and len(text) - caption.end() >= 40:  # never the whole paragraph
        text = text[caption.end():]
    return text


def normalize_figures(text: str) -> str:
    """One spelling per number: 13,500 / 1만3천500 / 1만3500 -> 13500, 7천억 -> 7000억.

    Driven by the marker characters (",", "천", "만"), which are few, rather than by a
    regex scan of every position: this runs on every article."""
    for marker, pattern, value in ((",", _THOUSANDS_AT, None), ("천", _KO_THOUSAND_AT, 1000), ("만", _KO_MYRIAD_AT, 10000)):
        if marker not in text:
            continue
        pieces, kept, i = [], 0, text.find(marker)
        while i >= 0:
            start = i
            while start > kept and "0" <= text[start - 1] <= "9":
                start -= 1
            if start < i and (start == 0 or text[start - 1] != "."):
                match = pattern.match(text, start)
                if match is not None and match.end(1) == i:
                    pieces.append(text[kept:start])
                    if value is None:  # 13,500: the comma goes
                        pieces.append(match.group(1))
                        kept = i + 1
                    else:
                        pieces.append(str(int(match.group(1)) * value + int(match.group(2) or 0)))
                        kept = match.end()
            i = text.find(marker, max(i + 1, kept))
        if pieces:
            text = "".join(pieces) + text[kept:]
    return text


def story_sentences(clean: str) -> list[str]:
    """The cleaned text's sentences (and paragraph ends) as printed, without the final
    punctuation; fragments shorter than MIN_SENTENCE_CHARS letters join the one before."""
    return _merge_short([p.strip() for p in _SENTENCE_END.split(clean)], squashed=False)


def sentence_ends(clean: str) -> list[int]:
    """Where sentences end in `clean`: after each . ? ! followed by up to two closing marks and
    a space, and at each line break (the ends story_sentences splits at, with the same letters
    in between). Found from the few punctuation marks rather than a regex scan of every
    position: this runs on every article."""
    ends = []
    for mark in ".?!\n":
        i = clean.find(mark)
        while i >= 0:
            if mark == "\n":
                ends.append(i)
            else:
                j = i + 1
                while j < len(clean) and j - i <= 2 and clean[j] in _CLOSERS:
                    j += 1
                if j < len(clean) and clean[j].isspace():
                    ends.append(i)
            i = clean.find(mark, i + 1)
    return sorted(ends)


def squashed_sentences(clean: str) -> list[str]:
    """story_sentences(clean), each squashed: the units the story text is made of."""
    return _merge_short(_NOT_WORD_OR_BAR.sub("", _SENTENCE_END.sub("|", clean)).lower().split("|"), squashed=True)


def _merge_short(pieces: list[str], squashed: bool) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if out and len(piece if squashed else squash(piece)) < MIN_SENTENCE_CHARS:
            out[-1] = out[-1] + piece if squashed else f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def lead_days(title: str, clean: str, lead_sentences: int = 2) -> frozenset[int]:
    """Days of the month (the N of "N일") printed in the title and the first sentences: the
    day a report is about. A text whose lead names only days the other text never mentions
    reports another day (a follow-up, another edition of a daily item), whatever else the two
    share."""
    pieces = _SENTENCE_END.split(clean, maxsplit=3 * lead_sentences)[: 3 * lead_sentences]  # not the rest
    lead = _merge_short([p.strip() for p in pieces], squashed=False)
    return days_named(" ".join([title or "", *lead[:lead_sentences]]))


def text_days(title: str, clean: str) -> frozenset[int]:
    """Every day of the month the title and the text name."""
    return days_named(f"{title or ''} {clean}")


def days_named(text: str) -> frozenset[int]:
    """The N of every "N일" (1-31, not part of a longer number or a decimal), found from the
    few 일 characters rather than a regex scan of every position."""
    days = set()
    i = text.find("일")
    while i >= 0:
        start = i
        while start > 0 and i - start < 3 and "0" <= text[start - 1] <= "9":
            start -= 1
        if 0 < i - start <= 2 and not (start > 0 and (text[start - 1] == "." or "0" <= text[start - 1] <= "9")):
            day = int(text[start:i])
            if 0 < day < 32:
                days.add(day)
        i = text.find("일", i + 1)
    return frozenset(days)


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Distinct character `size`-grams as UTF-8 bytes (the reference definition; the story
    signature hashes the same grams in bulk, crawler.dedup.stories)."""
    if len(text) < size:
        return {text.encode("utf-8")} if text else set()
    grams = {text[i : i + size] for i in range(len(text) - size + 1)}  # dedupe before encoding
    return {gram.encode("utf-8") for gram in grams}
