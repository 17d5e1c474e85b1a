"""Near-duplicate detection: accuracy on the labelled pairs, cost per article, index at 100k.

Run: .venv/bin/python bench/dedup_bench.py [--pairs bench/dedup/pairs.jsonl] [--stored 100000]

Prints, in one run, against a baseline measured in the same run:
- precision / recall per threshold of newsdesk's decision (containment estimated from the
  64-permutation crc32 MinHash and the shingle counts, plus the numbers test) on the
  labelled pairs, the threshold chosen (highest recall with P >= 0.98, the middle of that
  plateau), and beside it: exact containment with the same numbers test, and plain Jaccard
  (the usual MinHash threshold) at its own best threshold with P >= 0.98;
- signature time per article, newsdesk vs stock datasketch (ratio);
- LSH lookup time and index memory with `--stored` signatures in the index.
Writes bench/results/dedup.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from datasketch import MinHash

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.dedup.stories import NUM_PERM, NUMBERS_THRESHOLD, StoryIndex, numbers_of, signature  # noqa: E402
from crawler.text.fingerprint import shingles, story_text  # noqa: E402


def stock_signature(body: str) -> MinHash:
    """datasketch out of the box: 128 permutations, SHA-1, one update per shingle."""
    minhash = MinHash(num_perm=128)
    for shingle in shingles(story_text(body)):
        minhash.update(shingle)
    return minhash


def load_pairs(path: Path) -> list[dict]:
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not pairs:
        raise SystemExit(f"{path}: no pairs")
    return pairs


def scores(values: list[float], labels: list[bool], threshold: float) -> tuple[float, float]:
    tp = sum(1 for v, same in zip(values, labels) if v >= threshold and same)
    fp = sum(1 for v, same in zip(values, labels) if v >= threshold and not same)
    fn = sum(1 for v, same in zip(values, labels) if v < threshold and same)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def choose(values: list[float], labels: list[bool]) -> tuple[float, list[dict]]:
    table = []
    for step in range(5, 96):
        t = step / 100
        p, r = scores(values, labels, t)
        table.append({"threshold": t, "precision": round(p, 4), "recall": round(r, 4)})
    feasible = [row for row in table if row["precision"] >= 0.98]
    if not feasible:
        return max(table, key=lambda row: row["precision"])["threshold"], table
    best = max(row["recall"] for row in feasible)
    plateau = [row["threshold"] for row in feasible if row["recall"] == best]
    return plateau[len(plateau) // 2], table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=ROOT / "bench" / "dedup" / "pairs.jsonl")
    parser.add_argument("--stored", type=int, default=100_000, help="signatures in the index for the lookup figures")
    args = parser.parse_args()

    pairs = [p for p in load_pairs(args.pairs) if signature(p["a"]["body"]) and signature(p["b"]["body"])]
    labels = [p["label"] == "same" for p in pairs]
    exact, ours, jac = [], [], []
    for pair in pairs:
        a, b = pair["a"]["body"], pair["b"]["body"]
        sa, sb = signature(a), signature(b)
        agree = sa.numbers_agree(sb) >= NUMBERS_THRESHOLD
        ga, gb = shingles(story_text(a)), shingles(story_text(b))
        # a pair failing the numbers test scores 0: it can never be "same"
        ours.append(sa.containment(sb) if agree else 0.0)
        exact.append(len(ga & gb) / min(len(ga), len(gb)) if agree else 0.0)
        jac.append(sa.minhash.jaccard(sb.minhash))
    threshold, table = choose(ours, labels)
    p_ours, r_ours = scores(ours, labels, threshold)
    p_exact, r_exact = scores(exact, labels, threshold)
    j_threshold, _ = choose(jac, labels)
    p_jac, r_jac = scores(jac, labels, j_threshold)
    misses = [
        {"id": pair["id"], "kind": pair["kind"], "label": pair["label"], "estimate": round(v, 3), "exact": round(e, 3)}
        for pair, v, e, same in zip(pairs, ours, exact, labels)
        if (v >= threshold) != same
    ]

    bodies = [p["a"]["body"] for p in pairs] + [p["b"]["body"] for p in pairs]
    chars = statistics.mean(len(b) for b in bodies)
    signature(bodies[0])  # permutations generated once per process, as in a crawl
    numbers_of(bodies[0])
    started = time.perf_counter()
    for body in bodies:
        signature(body)
    ours_ms = (time.perf_counter() - started) * 1000 / len(bodies)
    started = time.perf_counter()
    for body in bodies[:100]:
        stock_signature(body)
    stock_ms = (time.perf_counter() - started) * 1000 / min(100, len(bodies))
    # the reference size: 2,600-character articles
    long_bodies = ["\n\n".join(bodies[i : i + 6])[:2600] for i in range(0, min(len(bodies), 600), 6)]
    started = time.perf_counter()
    for body in long_bodies:
        signature(body)
    ours_2600_ms = (time.perf_counter() - started) * 1000 / len(long_bodies)
    started = time.perf_counter()
    for body in long_bodies[:30]:
        stock_signature(body)
    stock_2600_ms = (time.perf_counter() - started) * 1000 / min(30, len(long_bodies))

    # index with `stored` signatures: real ones from the pairs plus random ones (unrelated
    # articles look like random signatures to LSH), memory traced while building
    rng = np.random.default_rng(7)
    tracemalloc.start()
    index = StoryIndex(threshold=threshold)
    from crawler.dedup.stories import StorySignature

    for n in range(args.stored):
        values = rng.integers(0, 2**32 - 1, size=NUM_PERM, dtype=np.uint32)
        sig = StorySignature(MinHash(num_perm=NUM_PERM, hashvalues=values, scheme="affine32"), 1500, frozenset({str(n)}))
        index.add(f"https://example.org/{n}", sig, f"s{n}")
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    probes = [signature(body) for body in random.Random(7).sample(bodies, min(200, len(bodies)))]
    started = time.perf_counter()
    for probe in probes:
        for candidate in index.lsh.query(probe.minhash):
            index.same_story(probe, index.signatures[candidate])
    lookup_us = (time.perf_counter() - started) * 1e6 / len(probes)

    result = {
        "pairs": len(pairs),
        "positives": sum(labels),
        "negatives": len(labels) - sum(labels),
        "threshold": threshold,
        "newsdesk": {"precision": round(p_ours, 4), "recall": round(r_ours, 4)},
        "exact_containment": {"precision": round(p_exact, 4), "recall": round(r_exact, 4)},
        "jaccard_only": {"threshold": j_threshold, "precision": round(p_jac, 4), "recall": round(r_jac, 4)},
        "sweep": table,
        "misclassified": misses,
        "mean_body_chars": round(chars),
        "signature_ms": round(ours_ms, 3),
        "stock_signature_ms": round(stock_ms, 3),
        "signature_speedup": round(stock_ms / ours_ms, 2),
        "signatures_per_second": round(1000 / ours_ms),
        "signature_2600_chars_ms": round(ours_2600_ms, 3),
        "stock_signature_2600_chars_ms": round(stock_2600_ms, 3),
        "stored": args.stored,
        "lookup_us": round(lookup_us, 1),
        "signature_plus_lookup_ms": round(ours_ms + lookup_us / 1000, 3),
        "signature_plus_lookup_2600_chars_ms": round(ours_2600_ms + lookup_us / 1000, 3),
        "index_memory_mb": round(current / 2**20, 1),
        "index_peak_mb": round(peak / 2**20, 1),
    }
    out = ROOT / "bench" / "results" / "dedup.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")

    print(f"{len(pairs)} labelled pairs ({sum(labels)} same story, {len(labels) - sum(labels)} different)")
    print(" threshold  precision  recall")
    for row in table:
        mark = "  <- chosen" if row["threshold"] == threshold else ""
        if round(row["threshold"] * 100) % 5 == 0 or mark:
            print(f"   {row['threshold']:.2f}      {row['precision']:.3f}    {row['recall']:.3f}{mark}")
    print(f"at {threshold:.2f}: newsdesk P {p_ours:.3f} R {r_ours:.3f} | exact containment P {p_exact:.3f} R {r_exact:.3f}"
          f" | Jaccard alone (baseline, best at {j_threshold:.2f}) P {p_jac:.3f} R {r_jac:.3f}")
    print(f"signature: {ours_ms:.2f} ms/article ({chars:.0f} chars) vs stock {stock_ms:.2f} ms: {stock_ms / ours_ms:.1f}x faster")
    print(f"at 2,600 characters: {ours_2600_ms:.2f} ms vs stock {stock_2600_ms:.2f} ms: {stock_2600_ms / ours_2600_ms:.1f}x faster")
    print(f"lookup at {args.stored:,} stored: {lookup_us:.0f} us; signature + lookup {ours_ms + lookup_us / 1000:.2f} ms"
          f" ({ours_2600_ms + lookup_us / 1000:.2f} ms at 2,600 characters)")
    print(f"index memory at {args.stored:,}: {current / 2**20:.0f} MB (peak {peak / 2**20:.0f} MB)")
    print(f"misclassified at {threshold:.2f}: {len(misses)}; results in {out}")


if __name__ == "__main__":
    main()
