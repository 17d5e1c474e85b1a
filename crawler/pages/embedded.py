"""The article a page carries as data for its scripts, for pages whose HTML holds no text.

Sites built on Arc Publishing (조선일보 and its sister sites) send the article as JSON in a
script (`Fusion.globalContent = {...}`) and draw it in the browser: the HTML the crawler gets
has a headline and meta tags but no paragraphs. This reads that JSON: the text elements in
order, the credits, the update time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from crawler.pages.base import ArticlePage
from crawler.text.clean import normalize_text

_ARC_MARK = "Fusion.globalContent="
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class EmbeddedArticle:
    """What the page's script data says: paragraphs (HTML stripped), credits as printed, the
    last update as written (ISO 8601)."""

    paragraphs: list[str] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    updated: str | None = None


def embedded_article(page: ArticlePage) -> EmbeddedArticle | None:
    """The article in the page's Arc `Fusion.globalContent`, or None where there is none."""
    at = page.html.find(_ARC_MARK)
    if at < 0:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(page.html, at + len(_ARC_MARK))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    paragraphs = [normalize_text(_TAGS.sub(" ", element.get("content") or ""))
                  for element in data.get("content_elements") or [] if _is_text(element)]
    credits = [by.get("name") for by in (data.get("credits") or {}).get("by") or []
               if isinstance(by, dict) and isinstance(by.get("name"), str)]
    updated = data.get("last_updated_date")
    return EmbeddedArticle([p for p in paragraphs if p], credits, updated if isinstance(updated, str) else None)


def _is_text(element: Any) -> bool:
    return isinstance(element, dict) and element.get("type") == "text" and isinstance(element.get("content"), str)
