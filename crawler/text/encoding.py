"""Decode Korean pages correctly when the server lies about the charset.

Some regional sites still serve EUC-KR (CP949 in practice) with a wrong or missing charset
header, and a few send `iso-8859-1`, which decodes anything without error and turns every
Hangul syllable into mojibake. So each candidate is tried strictly, in order of authority
(BOM, header, <meta>, the outlet's declared encoding, UTF-8, CP949), latin-1 family names are
never trusted, and EUC-KR is always read as its superset CP949.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
MAX_BAD_BYTES = 8  # replacement characters tolerated in an otherwise valid decode (or 1 per 2 KB)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Names that decode any byte sequence: a claim of one of these proves nothing.
_UNTRUSTED = {"latin_1", "iso8859_1", "cp1252", "ascii"}
# Korean aliases Python knows under other names or reads too narrowly.
_KOREAN = {"euc_kr", "ks_c_5601_1987", "ksc5601", "ks_c_5601", "korean", "uhc", "windows_949", "x_windows_949", "cp949"}


def normalize_encoding(name: str | None) -> str | None:
    """Python codec name for `name`, EUC-KR variants as cp949; None when unknown."""
    if not name:
        return None
    key = name.strip().lower().replace("-", "_")
    if key in _KOREAN:
        return "cp949"
    try:
        return codecs.lookup(key).name.replace("-", "_")
    except LookupError:
        return None


def header_charset(content_type: str | bytes | None) -> str | None:
    if not content_type:
        return None
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    """The charset a page declares in its first 4 KB (<meta charset> or http-equiv)."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def decode_html(body: bytes, content_type: str | bytes | None = None, declared: str | None = None) -> tuple[str, str]:
    """(text, encoding used). Never fails: the last resort is CP949 with replacement."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    candidates: list[str] = []
    for raw in (header_charset(content_type), meta_charset(body), declared, "utf-8", "cp949"):
        name = normalize_encoding(raw)
        if name and name not in _UNTRUSTED and name not in candidates:
            candidates.append(name)
    for name in candidates:
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    # Nothing decodes cleanly. One bad byte (a multibyte character cut by a byte-counting
    # substr() in a meta description, say) must not hand the page to the wrong codec: the
    # first candidate that decodes with only a handful of replacements wins.
    for name in candidates:
        text = body.decode(name, errors="replace")
        if text.count("\ufffd") <= max(MAX_BAD_BYTES, len(body) // 2000):
            return text, name
    return body.decode("cp949", errors="replace"), "cp949"
