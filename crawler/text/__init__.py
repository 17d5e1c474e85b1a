"""Text utilities for Korean news pages: dates, bylines, body cleanup, URL canonicalisation.

Pure functions over strings (stdlib only, no Scrapy) so spiders, pipelines and offline
re-processing of stored pages all share exactly the same rules.
"""

from crawler.text.bylines import Byline, is_byline_line, parse_byline, strip_wire_lead
from crawler.text.clean import clean_paragraphs, is_copyright_line, join_body, normalize_text
from crawler.text.dates import (
    KST,
    LabelledDate,
    find_labelled_dates,
    parse_iso_datetime,
    parse_korean_datetime,
    published_and_modified,
)
from crawler.text.urls import TRACKING_PARAMS, canonicalize_url

__all__ = [
    "KST",
    "TRACKING_PARAMS",
    "Byline",
    "LabelledDate",
    "canonicalize_url",
    "clean_paragraphs",
    "find_labelled_dates",
    "is_byline_line",
    "is_copyright_line",
    "join_body",
    "normalize_text",
    "parse_byline",
    "parse_iso_datetime",
    "parse_korean_datetime",
    "published_and_modified",
    "strip_wire_lead",
]
