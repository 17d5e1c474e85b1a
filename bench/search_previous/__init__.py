"""The search engine as it was on main before Korean word matching (bigram candidates, substring
verification, title-then-recency order): engine.py, query.py and snippets.py copied unchanged
but for their imports. Kept for bench/search_quality.py only, to score it beside the current
engine in the same run over the same index (the postings format did not change)."""
