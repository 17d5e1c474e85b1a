"""Place tagging against the labelled sets under bench/places/, beside the outlet's home region.

Run: .venv/bin/python bench/places_bench.py [--repeat 5] [--misses]

For every labelled article about one 시도 (its `sido` list is not empty) it compares the first
place crawler.text.places.tag() gives with the labels (any listed name is right: 광주·전남
stories list both); for every article about one 시군구 it does the same for the 시군구, over
all of them and over those whose text names the 시군구 (`sigungu_named`; the others name only
an institution whose place a reader knows: KAIST, 벡스코). The
baseline, in the same run, is what analysts had before: the outlet's home region as the 시도,
and no 시군구 at all. National articles (empty `sido`) are counted apart: the tagger may only
name the outlet's region for them (source "outlet"), or a place the text names.
holdout.jsonl is scored apart: it was labelled after the rules were last changed, so its figures
are the honest ones (labels.jsonl was read while refining them). Time per article is the best
of `--repeat` passes over labels.jsonl, one thread.
Writes bench/results/places.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.text.places import Place, gazetteer, tag  # noqa: E402

LABELS = ROOT / "bench" / "places" / "labels.jsonl"
HOLDOUT = ROOT / "bench" / "places" / "holdout.jsonl"


def load(path: Path = LABELS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(article: dict[str, Any]) -> list[Place]:
    return tag(article["title"], article["body"], subtitle=article.get("subtitle"),
               region=article.get("region"), home=article["home"])


def score(articles: list[dict[str, Any]], results: list[list[Place]], misses: list[str]) -> dict[str, Any]:
    """Accuracy of the first place against the labels, and of the outlet-home baseline."""
    table = gazetteer()
    sido_n = sido_ok = base_ok = sgg_n = sgg_ok = named_n = named_ok = 0
    national = national_outlet = 0
    for article, places in zip(articles, results):
        first = places[0] if places else None
        if not article["sido"]:
            national += 1
            national_outlet += bool(first is None or first.source == "outlet")
            continue
        sido_n += 1
        base_ok += table.sido(article["home"]).name in article["sido"]
        got = first is not None and first.sido in article["sido"]
        sido_ok += got
        if not got:
            misses.append(f"시도 {article['id']}: got {first.sido if first else None}, want {article['sido']} "
                          f"({article['title'][:40]})")
        if article["sigungu"]:
            sgg_n += 1
            full = first.sigungu_full if first is not None else None
            sgg_ok += full in article["sigungu"]
            if article.get("sigungu_named"):
                named_n += 1
                named_ok += full in article["sigungu"]
            if full not in article["sigungu"]:
                misses.append(f"시군구 {article['id']}: got {full}, want {article['sigungu']} ({article['title'][:40]})")
    ratio = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "articles": len(articles), "about_one_sido": sido_n, "about_one_sigungu": sgg_n,
        "about_one_sigungu_named_in_text": named_n, "national": national,
        "sido_accuracy": ratio(sido_ok, sido_n), "sido_accuracy_outlet_home": ratio(base_ok, sido_n),
        "sigungu_accuracy": ratio(sgg_ok, sgg_n), "sigungu_accuracy_outlet_home": 0.0,
        "sigungu_accuracy_named_in_text": ratio(named_ok, named_n),
        "national_left_to_outlet": national_outlet,
    }


def report(name: str, result: dict[str, Any]) -> None:
    print(f"{name}: {result['articles']} articles ({result['about_one_sido']} about one 시도, "
          f"{result['about_one_sigungu']} about one 시군구, {result['national']} national)")
    print(f"  시도 accuracy:   tagger {result['sido_accuracy']:.3f}   outlet home region {result['sido_accuracy_outlet_home']:.3f}")
    print(f"  시군구 accuracy: tagger {result['sigungu_accuracy']:.3f}   outlet home region 0.000 (it names no 시군구)")
    print(f"    where the text names it ({result['about_one_sigungu_named_in_text']}): tagger "
          f"{result['sigungu_accuracy_named_in_text']:.3f} (the others name only an institution: KAIST, 벡스코)")
    print(f"  national articles given only the outlet's region: {result['national_left_to_outlet']}/{result['national']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="print every article the tagger got wrong")
    args = parser.parse_args()
    articles = load()
    holdout = load(HOLDOUT)
    gazetteer()  # the table is read once per process: not part of the time per article
    best = float("inf")
    results: list[list[Place]] = []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        results = [run(a) for a in articles]
        best = min(best, time.perf_counter() - started)
    misses: list[str] = []
    result = {"labels": score(articles, results, misses),
              "holdout": score(holdout, [run(a) for a in holdout], misses),
              "ms_per_article": round(best / len(articles) * 1000, 4)}
    report("labels.jsonl", result["labels"])
    report("holdout.jsonl (labelled after the rules were last changed)", result["holdout"])
    print(f"time per article: {result['ms_per_article']:.3f} ms (best of {args.repeat}, one thread)")
    if args.misses:
        print("\n".join(misses))
    out = ROOT / "bench" / "results" / "places.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
