"""The fixed corpus the judged queries (queries.json) run over; ids are stable.

- fx:<outlet>/<name>: the saved articles under tests/fixtures (their expected title and body);
- sim:<n>: 20 articles in the simulator's way (crawler/devtools/simulator): six sentences of
  the saved articles drawn with a fixed seed, under a saved title;
- hw<nn>: written.json, short articles written for the judged set: trap words (휴대전화,
  대전차, 부산물, 대구탕, 광주리, 공주님, 전주 대비, 세종문화회관, 강원랜드), administrative
  forms, spaced compounds, people and institutions.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SIMULATED = 20
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _fixtures() -> list[dict[str, Any]]:
    out = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        expected = json.loads(path.read_text(encoding="utf-8")).get("expected") or {}
        if expected.get("body") and expected.get("title"):
            out.append({"id": f"fx:{path.parent.name}/{path.stem}", "title": expected["title"],
                        "subtitle": expected.get("subtitle") or "", "body": expected["body"],
                        "region": expected.get("region"), "outlet": path.parent.name})
    return out


def _simulated(fixtures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from crawler.devtools.simulator.corpus import sentences_and_titles

    sentences, titles = sentences_and_titles(FIXTURES)
    out = []
    for n in range(SIMULATED):
        rng = random.Random(f"search-quality-{n}")
        out.append({"id": f"sim:{n}", "title": rng.choice(titles), "subtitle": "",
                    "body": " ".join(rng.sample(sentences, 6)), "region": None, "outlet": "simulator"})
    return out


def articles() -> list[dict[str, Any]]:
    """Every article of the corpus, with a distinct published time (newest last)."""
    fixtures = _fixtures()
    written = [{**a, "subtitle": "", "outlet": "written"} for a in json.loads((HERE / "written.json").read_text("utf-8"))]
    docs = fixtures + _simulated(fixtures) + written
    for i, doc in enumerate(docs):
        doc["published"] = START + timedelta(hours=7 * i)
    return docs
