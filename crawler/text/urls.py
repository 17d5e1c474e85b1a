"""URL canonicalisation: one article, one URL.

Why: the same story is linked as ``http://m.joongdo.co.kr/main/view.php?key=...&utm_source=x``
and ``https://www.joongdo.co.kr/web/view.php?key=...#comments``; deduplication and the
crawl frontier need both to collapse to one key. Outlet-specific knowledge (mobile hosts,
legacy paths, which query parameter identifies an article) is passed in as data by the
outlet configuration, never hard-coded here.

Query values are kept byte-for-byte as they appeared (no decode/re-encode round trip), so
canonicalising an already canonical URL is a no-op.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from urllib.parse import unquote_plus, urlsplit

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "canonicalize_url"]

# Parameters that identify a click or a campaign, never the page. Compared lower-cased.
# Deliberately absent: "ncid", "page", "sc_section_code", "key", "idxno" — those select
# content on Korean news CMSes.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "ref",
        "ref_src",
        "ref_url",
        "referer",
        "referrer",
        "from",
        "spm",
    }
)
# Whole families: utm_source/utm_medium/..., Matomo/Piwik pk_* and mtm_*, HubSpot hsa_*.
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_PCT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def _upper_escapes(s: str) -> str:
    """%2f and %2F are the same octet (RFC 3986 6.2.2.1); pick the uppercase spelling."""
    return _PCT_ESCAPE.sub(lambda m: m.group(0).upper(), s)


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_PARAMS or k.startswith(TRACKING_PREFIXES)


def _canonical_query(query: str, keep_params: Collection[str] | None) -> str:
    """Drop tracking (or non-kept) params, then sort by key, keeping repeats in order."""
    kept: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        raw_key = part.partition("=")[0]
        key = unquote_plus(raw_key)
        if keep_params is not None:
            if key not in keep_params:
                continue
        elif _is_tracking(key):
            continue
        kept.append((key, _upper_escapes(part)))
    kept.sort(key=lambda kv: kv[0])  # list.sort is stable: repeated keys keep their order
    return "&".join(part for _, part in kept)


def canonicalize_url(
    url: str,
    *,
    keep_params: Collection[str] | None = None,
    host_aliases: Mapping[str, str] | None = None,
    force_https: bool = True,
    path_aliases: Mapping[str, str] | None = None,
) -> str:
    """Return the canonical form of an http(s) URL.

    Scheme and host lower-cased, default port and fragment dropped, tracking parameters
    removed (or, with ``keep_params``, only those kept), remaining parameters sorted,
    ``host_aliases`` / ``path_aliases`` applied (exact matches), and http upgraded to
    https when ``force_https``. Raises ValueError naming the input when it is not an
    absolute http(s) URL, because a relative or javascript: link reaching this point is a
    bug in the caller's link extraction.
    """
    if not isinstance(url, str):
        raise ValueError(f"not a URL string: {url!r}")
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed URL {url!r}: {exc}") from None

    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"URL has no host: {url!r}")

    if host_aliases:
        aliases = {k.lower(): v.lower() for k, v in host_aliases.items()}
        host = aliases.get(host, host)

    if port is not None and port == _DEFAULT_PORTS[scheme]:
        port = None
    if force_https:
        scheme = "https"
    if port is not None and port == _DEFAULT_PORTS[scheme]:
        port = None

    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"

    path = parts.path or "/"
    if path_aliases:
        path = path_aliases.get(path, path)
    path = _upper_escapes(path)

    query = _canonical_query(parts.query, keep_params)
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
