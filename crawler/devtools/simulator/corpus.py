"""The simulated news: which articles each outlet has, when each appears, what it says.

Everything is a pure function of (outlet, index, seed), so a page renders the same whether it
is served live, written as a static file, or checked by a test, and nothing is held in memory
per article (the 100k-article benchmarks would otherwise measure the simulator).

- Text: sentences of the saved articles (tests/fixtures/*/*.json), shuffled per article, with
  the article's own numbers, about 1,500 to 3,500 characters in paragraphs.
- Time: the first `initial` articles of an outlet are there from the start, published
  `spacing_minutes` apart (3) up to now; the rest appear one every `new_every` seconds of
  simulated time.
- Syndication: `syndicated` of the articles are copies of a wire story shared across outlets
  (a lead sentence of the outlet's own, the end sometimes cut), as regional papers reprint
  뉴시스/연합뉴스 copy.
- Corrections: `corrected` of the articles change `correction_after` seconds after they
  appear (a 바로잡습니다 paragraph and an edited sentence), as outlets correct stories.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from crawler.devtools.fixturesite import DEFAULT_FIXTURES
from crawler.text.dates import KST


@cache
def sentences_and_titles(root: Path = DEFAULT_FIXTURES) -> tuple[tuple[str, ...], tuple[str, ...]]:
    sentences: list[str] = []
    titles: list[str] = []
    for path in sorted(root.glob("*/*.json")):
        if path.name == "site.json":
            continue
        expected = json.loads(path.read_text(encoding="utf-8")).get("expected") or {}
        if expected.get("title"):
            titles.append(expected["title"])
        for sentence in re.split(r"(?<=[.다])\s+", expected.get("body") or ""):
            sentence = sentence.strip()
            if len(sentence) > 15 and "기자" not in sentence and "@" not in sentence:
                sentences.append(sentence)
    return tuple(dict.fromkeys(sentences)), tuple(dict.fromkeys(titles))


@dataclass(frozen=True)
class NewsConfig:
    articles: int = 100  # per outlet, in all
    initial: int | None = None  # there from the start (default: all of them)
    new_every: float = 60.0  # simulated seconds between two new articles of one outlet
    syndicated: float = 0.10  # share of articles that are copies of a shared wire story
    corrected: float = 0.05  # share of articles corrected after they appear
    correction_after: float = 600.0  # simulated seconds
    seed: int = 1
    spacing_minutes: float = 3.0  # between two of the initial articles (a backfill's history)

    @property
    def initial_count(self) -> int:
        return self.articles if self.initial is None else max(0, min(self.initial, self.articles))


@dataclass(frozen=True)
class SimArticle:
    outlet: str
    index: int
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    appears_at: float  # simulated seconds after the start
    story: int | None  # the wire story it copies, if any
    corrected_at: float | None  # simulated seconds after the start, if it gets corrected
    version: int = 1


def _rng(*parts: object) -> random.Random:
    return random.Random(zlib.crc32(":".join(map(str, parts)).encode("utf-8")))


@cache
def lexicon(size: int = 20000) -> tuple[str, ...]:
    """Made-up two-to-four-syllable words: the names and terms that make each story its own."""
    rng = random.Random(7)
    syllables = [chr(c) for c in range(0xAC00, 0xD7A4, 7)]
    return tuple("".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3, 3, 4)))) for _ in range(size))


def _text(rng: random.Random, target: int) -> list[str]:
    """Paragraphs of saved sentences, each with words of its own mixed in: a few hundred saved
    sentences alone would make every pair of articles look like reprints of each other."""
    sentences, _ = sentences_and_titles()
    words = lexicon()
    paragraphs: list[str] = []
    size = 0
    while size < target:
        parts = []
        for _ in range(rng.choice((1, 2, 2, 3))):
            tokens = rng.choice(sentences).split()
            for _ in range(max(2, len(tokens) // 3)):
                tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(words))
            parts.append(" ".join(tokens))
        # numbers of its own, so two articles never agree on every figure by chance
        para = re.sub(r"\d+", lambda m: str(rng.randrange(1, 10 ** max(1, len(m.group())))), " ".join(parts))
        paragraphs.append(para)
        size += len(para)
    return paragraphs


class News:
    """Articles of every outlet under one configuration and one start time."""

    def __init__(self, config: NewsConfig, start: datetime | None = None) -> None:
        self.config = config
        self.start = (start or datetime.now(KST)).astimezone(KST).replace(second=0, microsecond=0)
        self.stories = max(1, config.articles // 20)

    def appears_at(self, index: int) -> float:
        initial = self.config.initial_count
        return 0.0 if index < initial else (index - initial + 1) * self.config.new_every

    def visible(self, now: float) -> int:
        """How many articles each outlet shows at simulated time `now`."""
        initial = self.config.initial_count
        if now <= 0 or self.config.new_every <= 0:
            return initial if self.config.new_every > 0 else self.config.articles
        return min(self.config.articles, initial + int(now // self.config.new_every))

    def _kind(self, outlet: str, index: int) -> tuple[int | None, bool]:
        roll = _rng(self.config.seed, "kind", outlet, index).random()
        story = None
        if roll < self.config.syndicated:
            story = _rng(self.config.seed, "story", outlet, index).randrange(self.stories)
        corrected = 1 - self.config.corrected <= roll
        return story, corrected

    def article(self, outlet: str, index: int, now: float = 0.0) -> SimArticle:
        cfg = self.config
        story, corrected = self._kind(outlet, index)
        appears = self.appears_at(index)
        initial = cfg.initial_count
        if index < initial:  # spacing_minutes apart, the newest that long before the start
            published = self.start - timedelta(minutes=cfg.spacing_minutes * (initial - index))
        else:
            published = self.start + timedelta(seconds=appears)
        rng = _rng(cfg.seed, "article", outlet, index)
        if story is None:
            paragraphs = _text(rng, rng.randrange(1500, 3500))
            _, titles = sentences_and_titles()
            title = f"{rng.choice(titles)} ({index + 1})"
        else:
            srng = _rng(cfg.seed, "wire", story)
            paragraphs = _text(srng, srng.randrange(1500, 3500))
            _, titles = sentences_and_titles()
            title = srng.choice(titles)
            lead = _text(rng, 40)[:1]  # the desk's own first sentence
            if rng.random() < 0.5:
                paragraphs = paragraphs[: max(2, int(len(paragraphs) * 0.7))]  # a cut reprint
            paragraphs = lead + paragraphs
        corrected_at = appears + cfg.correction_after if corrected else None
        version = 1
        if corrected_at is not None and now >= corrected_at:
            version = 2
            paragraphs = paragraphs[:-1] + [paragraphs[-1] + " (수정된 문장입니다.)",
                                             f"[바로잡습니다] 기사 {index + 1}의 수치를 바로잡습니다."]
        return SimArticle(outlet, index, title, tuple(paragraphs), published, appears, story, corrected_at, version)
