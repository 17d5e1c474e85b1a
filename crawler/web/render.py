"""Jinja2 for the pages: autoescape on, filters for Korea time, numbers, links, paragraphs.

Every value from a crawled page (titles, bodies, bylines, URLs, captions) reaches the HTML
only through autoescaping; `|safe` is not used on any of it. A crawled URL becomes a link
only when it is http(s): escaping does not stop a `javascript:` href.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from crawler.text.dates import KST


def kst(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if isinstance(value, datetime):
        return value.astimezone(KST).strftime(fmt)
    if isinstance(value, date):
        return value.isoformat()
    return "-"


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, (int, float)) else "-"


def web_url(value: Any) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (shown as text, not linked)."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def paragraphs(body: Any) -> list[str]:
    """A stored body's paragraphs (separated by blank lines); single newlines kept as spaces."""
    text = str(body or "")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def query(params: dict[str, Any] | None = None, **extra: Any) -> str:
    """A query string from parameters (lists repeat the key); empty values left out."""
    merged = {**(params or {}), **extra}
    pairs: list[tuple[str, str]] = []
    for key, value in merged.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None or item == "" or item is False:
                continue
            pairs.append((key, item.isoformat() if isinstance(item, date) else str(item)))
    return ("?" + urlencode(pairs)) if pairs else ""


class Renderer:
    """The template environment and a page() that answers with HTML."""

    def __init__(self, *, static_version: str) -> None:
        self.env = Environment(
            loader=PackageLoader("crawler.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(kst=kst, number=number, web_url=web_url, paragraphs=paragraphs)
        self.env.globals.update(query=query, static_version=static_version, timedelta=timedelta)

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def page(self, request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("nav", "")
        html = self.render(template, request_path=request.url.path, **context)
        return HTMLResponse(html, status_code=status)
