"""Body-text cleanup: Unicode/whitespace normalisation, copyright trailers, joining.

Why: the same wire story reprinted by several papers must compare equal after cleanup,
and pages differ only in invisible ways (NFD vs NFC Hangul from Mac-authored copy, nbsp
and ideographic spaces from CMS editors, zero-width characters from copy-paste). Line
breaks inside a paragraph are layout, not content, so the only structure kept is the
paragraph list itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["clean_paragraphs", "is_copyright_line", "join_body", "normalize_body", "normalize_text"]

# Characters that render as nothing: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# C0/C1 controls other than whitespace are noise from broken encoders; drop them.
_INVISIBLE.update(dict.fromkeys([c for c in range(0x20) if chr(c) not in "\t\n\r\x0b\x0c"], None))
_INVISIBLE.update(dict.fromkeys(range(0x7F, 0xA0), None))
_INVISIBLE[0x85] = " "  # NEL is a line break, not noise
# str.translate looks every character up in a dict (slow on Hangul); a regex finds out in C
# whether there is anything to translate at all, which on crawled text there almost never is.
_HAS_INVISIBLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_INVISIBLE)) + "]")

# str.split() already treats nbsp (U+00A0), U+2000-U+200A, U+202F, U+205F, the ideographic
# space (U+3000) and every line break as whitespace, so one split/join collapses them all.


def normalize_text(s: str) -> str:
    """NFC, invisible characters removed, every whitespace run (line breaks too) -> one space.

    NFC rather than NFKC: NFKC would rewrite full-width punctuation and circled characters
    (ⓒ, ①) that are part of the printed text.
    """
    if not s:
        return ""
    if not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    if _HAS_INVISIBLE.search(s) is not None:
        s = s.translate(_INVISIBLE)
    return " ".join(s.split())


def normalize_body(body: str) -> str:
    """A body's paragraphs (one per line) normalised and joined by a blank line, empty ones dropped."""
    paragraphs = [normalize_text(p) for p in (body or "").split("\n")]
    return "\n\n".join(p for p in paragraphs if p)


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Normalise each paragraph and drop the ones left empty (spacer <p>, <br> runs)."""
    out: list[str] = []
    for p in paragraphs:
        if p is None:
            continue
        t = normalize_text(p)
        if t:
            out.append(t)
    return out


# Markers that only copyright trailers carry.
_COPYRIGHT_RX = re.compile(
    r"무단\s*[-·]?\s*(?:전재|복제|배포|수집)"  # 무단전재, 무단 전재, 무단복제
    r"|재\s*배포\s*금지"
    r"|저작권자"
    r"|copyright"
    r"|all\s+rights\s+reserved"
    r"|[©ⓒ]"
    r"|\(c\)\s*[가-힣A-Za-z]",  # "(c) 연합뉴스"; not a list item "(c)" on its own
    re.IGNORECASE,
)
# A Korean declarative sentence ends in 다 (+ punctuation/quotes): body text, even when it
# talks about 무단전재 or 저작권자.
_SENTENCE_END = re.compile(r"(?:다|요|까)[.!?\"'”’」』)]*$")
_MAX_COPYRIGHT_LEN = 200


def is_copyright_line(line: str) -> bool:
    """True for a copyright trailer (``중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지``).

    Trailers are short and not sentences; requiring both keeps an article *about* 무단전재
    from losing its paragraphs.
    """
    if not line:
        return False
    s = normalize_text(line)
    if not s or len(s) > _MAX_COPYRIGHT_LEN:
        return False
    if _COPYRIGHT_RX.search(s) is None:
        return False
    return _SENTENCE_END.search(s) is None


def join_body(paragraphs: list[str]) -> str:
    """Paragraphs joined by a blank line, the one structure the body text keeps.

    Empty items are skipped so a caller that did not run :func:`clean_paragraphs` still
    cannot produce runs of blank lines.
    """
    return "\n\n".join(p for p in paragraphs if p)
