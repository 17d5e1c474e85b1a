"""Korean full-text search, statistics and exports over the stored articles.

`search(db, query, filters, page=, per_page=)` is the one entry point the CLI and the web
dashboard share; `Filters` selects articles the same way for search, stats and export.
`drain(db)` indexes what the store queued (crawler.search.queue).
"""

from crawler.search.engine import Hit, SearchError, SearchResult, search
from crawler.search.filters import Filters, day_range, parse_day
from crawler.search.index import SearchIndex, reindex
from crawler.search.query import ParsedQuery, parse_query
from crawler.search.queue import DrainResult, drain, pending
from crawler.search.snippets import Segment

__all__ = [
    "DrainResult",
    "Filters",
    "Hit",
    "ParsedQuery",
    "SearchError",
    "SearchIndex",
    "SearchResult",
    "Segment",
    "day_range",
    "drain",
    "parse_day",
    "parse_query",
    "pending",
    "reindex",
    "search",
]
