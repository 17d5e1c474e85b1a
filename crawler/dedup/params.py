"""The story decision's constants, apart from the numpy code so that settings/base.py can
read them without importing numpy: NEWSDESK_STORY_THRESHOLD defaults to DEFAULT_THRESHOLD,
one number, the one bench/dedup_bench.py chose and checks."""

# score = containment + TITLE_WEIGHT * title + PARAPHRASE_WEIGHT * paraphrase >= threshold;
# chosen on bench/dedup/pairs.jsonl (bench/dedup_bench.py prints the search and says when
# the whole-set fit no longer agrees with these).
DEFAULT_THRESHOLD = 0.82
TITLE_WEIGHT = 0.5
PARAPHRASE_WEIGHT = 0.3
NUMBERS_THRESHOLD = 0.5  # share of the shorter text's numbers the other one prints too

# Articles the story index holds at most (NEWSDESK_STORY_INDEX_MAX_ARTICLES; settings/base.py
# says why this many, bench/dedup_bench.py and bench/soak_bench.py measure the memory).
DEFAULT_MAX_ARTICLES = 20_000
