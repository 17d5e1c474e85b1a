"""Story signatures computed beside the page parse, in the parse worker process.

The story signature (crawler.dedup.stories.signature) is the dedup pipeline's main cost and
a pure function of the normalised body and title. When pages are parsed by a worker process
(crawler/crawl/parse_pool.py), the worker computes it too, from the body and title normalised the
way the normalize pipeline will, and keeps it on the Article outside its fields (no stored
field, no item field changes). The dedup pipeline takes it only if the item's body and title
are exactly the text it was computed from; otherwise (a pipeline before it changed them) it
computes its own. So the result is the same either way; only where the CPU is spent moves.
"""

from __future__ import annotations

from typing import Any

from crawler.items import is_prenormalized
from crawler.text.clean import normalize_body, normalize_text

_ATTRIBUTE = "_newsdesk_presigned"
MISSING = object()  # take() found nothing usable: compute the signature


def presign(article: Any) -> Any:
    """Attach the signature of `article`'s normalised body and title; returns the article."""
    from crawler.dedup.stories import signature

    body, title = getattr(article, "body", "") or "", getattr(article, "title", "") or ""
    if not is_prenormalized(article):  # as the normalize pipeline will leave them
        body, title = normalize_body(body), normalize_text(title) or ""
    try:
        setattr(article, _ATTRIBUTE, (body, title, signature(body, title)))
    except AttributeError:  # an item type that takes no attributes: the pipeline computes it
        pass
    return article


def take(item: Any, body: str, title: str) -> Any:
    """The presigned signature (a StorySignature, or None for a text too short to sign) if it
    was computed from exactly `body` and `title`; MISSING otherwise. Removes it from the item."""
    found = getattr(item, "__dict__", {}).pop(_ATTRIBUTE, None)
    if found is None:
        return MISSING
    signed_body, signed_title, sig = found
    if signed_body != body or signed_title != title:
        return MISSING
    return sig
