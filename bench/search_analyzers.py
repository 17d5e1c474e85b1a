"""Search matching rules on the judged query set: bigrams, the rule matcher and a Korean analyzer.

Run: .venv/bin/python bench/search_analyzers.py [--json bench/results/search_analyzers.json]

Needs kiwipiepy and kiwipiepy-model 0.24 (`.venv/bin/pip install 'kiwipiepy>=0.24,<0.25'
'kiwipiepy-model>=0.24,<0.25'`; the model ships in the package, nothing is downloaded when it
runs); without them it says so and stops with exit status 0.

Offline and in memory: each article of bench/search/corpus.py (its title, then subtitle and
body, normalized and whitespace-squashed as the engine verifies them) is analyzed once per
kiwipiepy option set, and each query of bench/search/queries.json is answered by every rule
below over the whole corpus. No postings, no database: the question is which *matching rule*
finds the relevant articles and leaves the traps. Queries are parsed as the engine parses
them (crawler.search.query.parse_query: words and -excluded words; two adjacent words also
match written together); a rule says whether an article holds one word:

- bigrams: every index term of the word's stem (crawler.text.terms over crawler.text.korean's
  stem) is among the article's, the inner bigrams of a compound stem all but one: the
  engine's candidates before verification;
- rule: the engine's verification itself, ParsedQuery.matches (crawler.text.korean);
- kiwi bag: the word's content morphemes (CONTENT tags) are all among the article's, by form;
  per option set (default; split_complex; saisiot split; nouns joined with their prefixes and
  suffixes, JOIN_NOUN_PREFIX|JOIN_NOUN_SUFFIX), and by form and tag (대구/NNP is not
  대구/NNG, the fish);
- kiwi seq: position-aware: the word's morphemes joined (온누리+상품+권) equal a run of
  adjacent noun morphemes of the article (one space allowed between them, so 스마트시티 finds
  스마트 시티) starting and ending at morpheme boundaries; "| prefix": or the run only starts
  with it (대전 in the morpheme 대전시, but also 세종 in 세종문화회관); "| admin": or the run is
  it plus an administrative or place suffix of crawler.text.korean (대전시, 대전시의회);
- kiwi stem | admin: as kiwi seq | admin, the query word reduced by korean.stem rather than
  by the analyzer (대전시가 -> 대전, so 대전광역시 is found);
- rule AND / OR kiwi: the rule and kiwi stem | admin, both or either; "3+": kiwi only for
  stems of three letters or more (주차장 in 공영주차장), the rule alone for two-letter ones;
- rule, 2-letter @kiwi: the rule, but a two-letter Hangul stem (대전, 부산: the ones that
  collide) counts only at a rule match where kiwi starts a morpheme run equal to the stem or
  the stem plus a suffix (the position check the issue calls a tie-break); "NNP": also, when
  the query word alone is one proper noun (NNP), the morpheme there must be NNP; "not NNG":
  it must not be the stem alone read as a common noun (homographs: 전주 대비, 공주님);
  "window": the "not NNG" check as a search could run it at query time, kiwi analyzing
  only WINDOW characters each side of each match (timed); "all @kiwi": the position check
  for every Hangul stem;
- rule OR kiwi 3+, @kiwi not NNG: the "3+" alternative and the "not NNG" check together;
- rule OR substring 3+ (no kiwi): the rule, or a stem of three letters or more anywhere in
  the text: what the "3+" gain costs without an analyzer.

Scores come from bench/search_quality.py's `scores`, given the matching articles newest first
(the engine's sort="newest": P@10 there does not judge ranking, which is out of scope); set
precision (relevant matched / matched, 0 when nothing matched) and the non-relevant articles
matched in all are added here. Trap queries fail when a trap article matches; homographs are
counted, not judged. It also prints kiwipiepy's load time, its analysis speed (ms per 1,500
characters, the best of 3 passes over the corpus, one article per call; the first call,
which finishes loading the model, counts as load) against the bigram index's own term
extraction in the same run, and what an index of morphemes would hold beside the bigram
index (distinct terms per article, vocabulary).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "search"))

import corpus  # noqa: E402
from search_quality import scores  # noqa: E402

from crawler.search.query import ParsedQuery, parse_query, squash  # noqa: E402
from crawler.text import korean  # noqa: E402
from crawler.text.terms import query_terms, text_terms  # noqa: E402

# Morphemes that carry a word's meaning (nouns, numerals, foreign letters, digits, roots).
CONTENT = frozenset({"NNG", "NNP", "NR", "SL", "SN", "SH", "XR"})
# What a noun run may hold besides: noun prefixes and suffixes (온누리+상품+권, 고용+률).
RUN = CONTENT | {"XPN", "XSN"}
SUFFIXES = frozenset(korean.ADMIN) | frozenset(korean.PLACE) | {a + p for a in korean.ADMIN for p in korean.PLACE}
MAX_SUFFIX = max(len(s) for s in SUFFIXES)
CHARS_PER_TEXT = 1500
WINDOW = 20  # characters each side of a match that the query-time check analyzes


@dataclass
class Analysis:
    """One article's morphemes under one option set, with what the rules look up."""

    forms: list[str]
    tags: list[str]
    starts: list[int]
    ends: list[int]
    at: dict[int, int] = field(default_factory=dict)  # start offset -> morpheme index
    form_set: set[str] = field(default_factory=set)
    form_tag_set: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, tokens: list[Any]) -> Analysis:
        a = cls([t.form for t in tokens], [t.tag for t in tokens], [t.start for t in tokens], [t.end for t in tokens])
        for i, start in enumerate(a.starts):
            a.at.setdefault(start, i)
        a.form_set = {f for f, t in zip(a.forms, a.tags, strict=True) if t in CONTENT}
        a.form_tag_set = {(f, t) for f, t in zip(a.forms, a.tags, strict=True) if t in CONTENT}
        return a


@dataclass
class Doc:
    id: str
    text: str  # title "\n" subtitle and body, squashed: what the engine verifies
    terms: set[str]
    kiwi: dict[str, Analysis] = field(default_factory=dict)


def run_match(text: str, a: Analysis, i: int, target: str, mode: str) -> bool:
    """Does a run of adjacent noun morphemes starting at morpheme `i` spell `target`, ending at
    a morpheme boundary ("exact"), plus a suffix of SUFFIXES ("admin"), or anywhere ("prefix")?"""
    spelled = ""
    for j in range(i, len(a.forms)):
        if a.tags[j] not in RUN or (j > i and text[a.ends[j - 1]:a.starts[j]] not in ("", " ")):
            return False
        spelled += a.forms[j]
        if spelled == target:
            return True
        if len(spelled) < len(target):
            if not target.startswith(spelled):
                return False
            continue
        if not spelled.startswith(target):
            return False
        rest = spelled[len(target):]
        if mode == "prefix" or (mode == "admin" and rest in SUFFIXES):
            return True
        if mode != "admin" or len(rest) >= MAX_SUFFIX:
            return False
    return False


def spelled_anywhere(doc: Doc, a: Analysis, target: str, mode: str) -> bool:
    if not target:
        return False
    return any(a.tags[i] in RUN and run_match(doc.text, a, i, target, mode) for i in range(len(a.forms)))


class Kiwi:
    """kiwipiepy under one loaded model: articles and query words analyzed per option set."""

    def __init__(self) -> None:
        started = time.perf_counter()
        import kiwipiepy
        from kiwipiepy import Match
        self.import_s = time.perf_counter() - started
        started = time.perf_counter()
        self.kiwi = kiwipiepy.Kiwi()
        self.kiwi.tokenize("대전시는")  # the first analysis finishes loading the model
        self.load_s = time.perf_counter() - started
        self.version = kiwipiepy.__version__
        self.options = {
            "default": {},
            "split_complex": {"split_complex": True},
            "saisiot split": {"saisiot": True},
            "affixes joined": {"match_options": Match.ALL | Match.JOIN_NOUN_PREFIX | Match.JOIN_NOUN_SUFFIX},
        }
        self.window_ms: list[float] = []  # analysis time of each query-time window
        self._words: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def analyze(self, text: str, option: str) -> Analysis:
        return Analysis.of(self.kiwi.tokenize(text, **self.options[option]))

    def word(self, word: str, option: str) -> list[tuple[str, str]]:
        """(form, tag) of the morphemes of a query word, alone."""
        key = (word, option)
        if key not in self._words:
            self._words[key] = [(t.form, t.tag) for t in self.kiwi.tokenize(word, **self.options[option])]
        return self._words[key]


Has = Callable[[Doc, str], bool]


def query_matches(parsed: ParsedQuery, doc: Doc, has: Has) -> bool:
    """ParsedQuery.matches with the word test `has` (an article, a word as typed) swapped in."""
    words = parsed.words
    found = [has(doc, w) for w in words]
    for i in range(len(words) - 1):
        if not (found[i] and found[i + 1]) and has(doc, words[i] + words[i + 1]):
            found[i] = found[i + 1] = True
    return (all(p in doc.text for p in parsed.phrases) and all(found)
            and not any(has(doc, x) for x in parsed.excluded))


def rules(kiwi: Kiwi) -> dict[str, Callable[[ParsedQuery, Doc], bool]]:
    def bigrams(doc: Doc, word: str) -> bool:
        s = korean.stem(word)
        terms = query_terms(s)
        cuts = korean.split_points(s)
        if len(cuts) and len(terms) == len(s) - 1 and len(terms) > 2:  # 스마트 시티 lacks 트시
            inner = terms[1:-1]
            return (terms[0] in doc.terms and terms[-1] in doc.terms
                    and sum(t in doc.terms for t in inner) >= len(inner) - 1)
        return all(t in doc.terms for t in terms)

    def bag(option: str, tagged: bool) -> Has:
        def has(doc: Doc, word: str) -> bool:
            wanted = [(f, t) for f, t in kiwi.word(word, option) if t in CONTENT]
            a = doc.kiwi[option]
            if tagged:
                return bool(wanted) and all(m in a.form_tag_set for m in wanted)
            return bool(wanted) and all(f in a.form_set for f, _ in wanted)
        return has

    def seq(mode: str, stemmed: bool = False) -> Has:
        def has(doc: Doc, word: str) -> bool:
            if stemmed:
                target = korean.stem(word)
            else:
                target = "".join(f for f, t in kiwi.word(word, "default") if t in RUN)
            return spelled_anywhere(doc, doc.kiwi["default"], target, mode)
        return has

    kiwi_stem_admin = seq("admin", stemmed=True)

    def inside(doc: Doc, word: str) -> bool:  # anywhere, even inside a longer word
        return korean.stem(word) in doc.text

    def rule_word(doc: Doc, word: str) -> bool:
        return korean.has_word(doc.text, korean.stem(word))

    def at_kiwi(two_letters_only: bool, proper: str = "") -> Has:
        """The rule, a match counting only where kiwi starts a run spelling the stem (+ suffix);
        `proper` "NNP": where the query word alone is one NNP, the morpheme there must be NNP;
        "not NNG": it must not be the stem alone read as a common noun (전주 대비, 공주님)."""
        def has(doc: Doc, word: str) -> bool:
            s = korean.stem(word)
            hangul = bool(s) and all(korean.is_cjk(ch) for ch in s)
            if not hangul or (two_letters_only and len(s) != 2):
                return korean.has_word(doc.text, s)
            a = doc.kiwi["default"]
            alone = [(f, t) for f, t in kiwi.word(word, "default") if t in CONTENT]
            name = len(alone) == 1 and alone[0][1] == "NNP"
            for start, _end in korean.find_word(doc.text, s):
                i = a.at.get(start)
                if i is None or not run_match(doc.text, a, i, s, "admin"):
                    continue
                if name and proper == "NNP" and a.tags[i] != "NNP":
                    continue
                if name and proper == "not NNG" and a.forms[i] == s and a.tags[i] == "NNG":
                    continue
                return True
            return False
        return has

    def window_check(doc: Doc, word: str) -> bool:
        """"not NNG" as a search could run it: only the text around each match analyzed, at
        query time (WINDOW characters each side, cut at spaces); the time goes to kiwi.window_ms."""
        s = korean.stem(word)
        alone = [(f, t) for f, t in kiwi.word(word, "default") if t in CONTENT]
        if len(s) != 2 or not all(korean.is_cjk(ch) for ch in s) or not (len(alone) == 1 and alone[0][1] == "NNP"):
            return korean.has_word(doc.text, s)
        for start, _end in korean.find_word(doc.text, s):
            lo = max(0, start - WINDOW)
            if lo:
                lo = next((k + 1 for k in range(lo, start) if doc.text[k] in " \n"), start)
            hi = min(len(doc.text), start + len(s) + WINDOW)
            cut = max(doc.text.rfind(" ", start, hi), doc.text.rfind("\n", start, hi))
            hi = cut if cut > start + len(s) and hi < len(doc.text) else hi
            started = time.perf_counter()
            found = kiwi.kiwi.tokenize(doc.text[lo:hi])
            kiwi.window_ms.append((time.perf_counter() - started) * 1000)
            a = Analysis.of(found)
            i = a.at.get(start - lo)
            if i is not None and a.forms[i] == s and a.tags[i] == "NNG":
                continue
            return True
        return False

    def longer(has: Has) -> Has:
        """`has` for Hangul stems of three letters or more; two-letter stems: the rule."""
        def test(doc: Doc, word: str) -> bool:
            s = korean.stem(word)
            return has(doc, word) if len(s) >= 3 and all(korean.is_cjk(ch) for ch in s) else False
        return test

    def of(has: Has) -> Callable[[ParsedQuery, Doc], bool]:
        return lambda parsed, doc: query_matches(parsed, doc, has)

    out: dict[str, Callable[[ParsedQuery, Doc], bool]] = {
        "bigrams": of(bigrams),
        "rule (current)": lambda parsed, doc: parsed.matches(doc.text),
    }
    for option in kiwi.options:
        out[f"kiwi bag, {option}"] = of(bag(option, tagged=False))
    out["kiwi bag, form+tag"] = of(bag("default", tagged=True))
    out["kiwi seq"] = of(seq("exact"))
    out["kiwi seq | prefix"] = of(seq("prefix"))
    out["kiwi seq | admin"] = of(seq("admin"))
    out["kiwi stem | admin"] = of(kiwi_stem_admin)
    out["rule AND kiwi stem|admin"] = of(lambda d, w: rule_word(d, w) and kiwi_stem_admin(d, w))
    out["rule OR kiwi stem|admin"] = of(lambda d, w: rule_word(d, w) or kiwi_stem_admin(d, w))
    kiwi_longer = longer(kiwi_stem_admin)
    out["rule OR kiwi stem|admin 3+"] = of(lambda d, w: rule_word(d, w) or kiwi_longer(d, w))
    out["rule, 2-letter @kiwi"] = of(at_kiwi(two_letters_only=True))
    out["rule, 2-letter @kiwi NNP"] = of(at_kiwi(two_letters_only=True, proper="NNP"))
    out["rule, 2-letter @kiwi not NNG"] = of(at_kiwi(two_letters_only=True, proper="not NNG"))
    out["rule, 2-letter @kiwi not NNG, window"] = of(window_check)
    out["rule, all @kiwi"] = of(at_kiwi(two_letters_only=False))
    not_common = at_kiwi(two_letters_only=True, proper="not NNG")
    out["rule OR kiwi 3+, @kiwi not NNG"] = of(lambda d, w: not_common(d, w) or kiwi_longer(d, w))
    out["rule OR substring 3+ (no kiwi)"] = of(lambda d, w: rule_word(d, w) or longer(inside)(d, w))
    return out


def load_docs(kiwi: Kiwi) -> tuple[list[Doc], dict[str, Any]]:
    """The corpus, newest first, analyzed; with the analyzer's speed and the index sizes."""
    articles = sorted(corpus.articles(), key=lambda a: a["published"], reverse=True)
    docs = []
    for a in articles:
        title = squash(a["title"])
        rest = squash("\n".join(str(a.get(name) or "") for name in ("subtitle", "body")))
        docs.append(Doc(a["id"], title + "\n" + rest, text_terms(a["title"] + "\n" + a["subtitle"] + "\n" + a["body"])))
    chars = sum(len(d.text) for d in docs)
    indexing = []
    for _ in range(3):
        started = time.perf_counter()
        for d in docs:
            text_terms(d.text)
        indexing.append(time.perf_counter() - started)
    passes = []
    for _ in range(3):  # kiwipiepy alone is timed, not the lookups built from its answer
        started = time.perf_counter()
        tokens = [kiwi.kiwi.tokenize(d.text) for d in docs]
        passes.append(time.perf_counter() - started)
    for d, found in zip(docs, tokens, strict=True):
        d.kiwi["default"] = Analysis.of(found)
    for option in kiwi.options:
        if option != "default":
            for d in docs:
                d.kiwi[option] = kiwi.analyze(d.text, option)
    bigrams = [len(d.terms) for d in docs]
    morphemes = [len(d.kiwi["default"].form_set) for d in docs]
    both = [len(d.terms | d.kiwi["default"].form_set) for d in docs]
    vocab_bigrams = set().union(*(d.terms for d in docs))
    vocab_kiwi = set().union(*(d.kiwi["default"].form_set for d in docs))
    return docs, {
        "articles": len(docs), "chars": chars, "chars_per_article": round(chars / len(docs)),
        "kiwipiepy": kiwi.version, "import_s": round(kiwi.import_s, 2), "load_s": round(kiwi.load_s, 2),
        "ms_per_1500_chars": round(min(passes) * 1000 / chars * CHARS_PER_TEXT, 2),
        "passes_s": [round(p, 3) for p in passes],
        "bigram_terms_ms_per_1500_chars": round(min(indexing) * 1000 / chars * CHARS_PER_TEXT, 3),
        "analysis_to_bigrams": round(min(passes) / min(indexing), 1),
        "terms_per_article": {"bigram index": round(statistics.mean(bigrams), 1),
                              "kiwi morphemes": round(statistics.mean(morphemes), 1),
                              "both": round(statistics.mean(both), 1)},
        "vocabulary": {"bigram index": len(vocab_bigrams), "kiwi morphemes": len(vocab_kiwi),
                       "both": len(vocab_bigrams | vocab_kiwi)},
    }


def model_mb() -> float:
    spec = importlib.util.find_spec("kiwipiepy_model")
    if not spec or not spec.submodule_search_locations:
        return 0.0
    folder = Path(next(iter(spec.submodule_search_locations)))
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "search_analyzers.json")
    args = parser.parse_args()
    if importlib.util.find_spec("kiwipiepy") is None or importlib.util.find_spec("kiwipiepy_model") is None:
        print("kiwipiepy (and kiwipiepy-model) is not installed: skipping the analyzer comparison.\n"
              "Install: .venv/bin/pip install 'kiwipiepy>=0.24,<0.25' 'kiwipiepy-model>=0.24,<0.25'")
        return
    started = time.perf_counter()
    queries = json.loads((ROOT / "bench" / "search" / "queries.json").read_text("utf-8"))["queries"]
    kiwi = Kiwi()
    docs, cost = load_docs(kiwi)
    cost["model_mb"] = model_mb()
    matchers = rules(kiwi)

    per_query: list[dict[str, Any]] = []
    for q in queries:
        parsed = parse_query(q["q"])
        row: dict[str, Any] = {"q": q["q"], "kind": q["kind"], "relevant": len(q["relevant"])}
        relevant = set(q["relevant"])
        for name, matches in matchers.items():
            windows = len(kiwi.window_ms)
            ids = [d.id for d in docs if matches(parsed, d)]  # newest first
            if len(kiwi.window_ms) > windows:
                row["windows"] = len(kiwi.window_ms) - windows
            hit = len(relevant & set(ids))
            row[name] = {**scores(ids, q), "precision": hit / len(ids) if ids else 0.0, "returned": len(ids),
                         "nonrelevant": len(ids) - hit, "missed": sorted(relevant - set(ids)),
                         "wrong": [i for i in ids if i not in relevant]}
        per_query.append(row)

    trap_queries = [q["q"] for q in queries if q["traps"]]
    summary: dict[str, Any] = {}
    for name in matchers:
        rows = [r[name] for r in per_query]
        summary[name] = {
            "precision": round(statistics.mean(r["precision"] for r in rows), 3),
            "recall": round(statistics.mean(r["recall"] for r in rows), 3),
            "p10_newest": round(statistics.mean(r["p10"] for r in rows), 3),
            "nonrelevant_matched": sum(r["nonrelevant"] for r in rows),
            "queries_perfect": sum(r["precision"] == 1 and r["recall"] == 1 for r in rows),
            "trap_queries_failed": [r["q"] for r in per_query if r[name]["trap"]],
            "homographs_returned": int(sum(r["homographs"] for r in rows)),
        }

    print(f"corpus: {cost['articles']} articles, {cost['chars_per_article']} characters each on average; "
          f"{len(queries)} judged queries ({len(trap_queries)} with trap articles)")
    print(f"kiwipiepy {cost['kiwipiepy']}: import {cost['import_s']} s, Kiwi() {cost['load_s']} s, "
          f"{cost['ms_per_1500_chars']} ms per {CHARS_PER_TEXT:,} characters (best of 3 passes: "
          f"{', '.join(f'{p:.2f}' for p in cost['passes_s'])} s), model package {cost['model_mb']} MB")
    print(f"the bigram index's terms (crawler.text.terms.text_terms): {cost['bigram_terms_ms_per_1500_chars']} ms per "
          f"{CHARS_PER_TEXT:,} characters; analysis costs {cost['analysis_to_bigrams']}x that")
    t = cost["terms_per_article"]
    v = cost["vocabulary"]
    checked = [r["windows"] for r in per_query if "windows" in r]
    if checked:
        per_window = statistics.median(kiwi.window_ms)
        cost["query_time_windows"] = {"queries": len(checked), "windows": len(kiwi.window_ms),
                                      "median_ms_per_window": round(per_window, 2),
                                      "most_windows_in_a_query": max(checked)}
        print(f"query-time \"not NNG\" check: {len(kiwi.window_ms)} windows of about {2 * WINDOW} characters in "
              f"{len(checked)} queries (at most {max(checked)} in one, over the whole corpus), median "
              f"{per_window:.2f} ms each")
    print(f"distinct terms per article: bigram index {t['bigram index']}, kiwi content morphemes "
          f"{t['kiwi morphemes']}, both {t['both']}; vocabulary {v['bigram index']:,} / {v['kiwi morphemes']:,} / "
          f"{v['both']:,}")
    print("\nset precision and recall are means over queries; P@10 on the matches newest first (no ranking)")
    print(f"{'':38}{'precision':>10}{'recall':>8}{'P@10':>7}{'non-rel':>8}{'perfect':>8}  traps failed "
          f"(of {len(trap_queries)}), homographs")
    for name, s in summary.items():
        failed = s["trap_queries_failed"]
        print(f"{name:38}{s['precision']:10.3f}{s['recall']:8.3f}{s['p10_newest']:7.3f}{s['nonrelevant_matched']:8}"
              f"{s['queries_perfect']:8}  {len(failed)} {' '.join(failed)[:60]}; {s['homographs_returned']}")

    print("\nagainst the current rule, per query (R-/R+: relevant lost/gained, W+/W-: non-relevant added/dropped):")
    base = "rule (current)"
    for name in matchers:
        if name == base:
            continue
        changes = []
        for r in per_query:
            counts = {"R-": set(r[name]["missed"]) - set(r[base]["missed"]),
                      "R+": set(r[base]["missed"]) - set(r[name]["missed"]),
                      "W+": set(r[name]["wrong"]) - set(r[base]["wrong"]),
                      "W-": set(r[base]["wrong"]) - set(r[name]["wrong"])}
            if any(counts.values()):
                changes.append(r["q"] + " " + " ".join(f"{k[0]}{k[1]}{len(v)}" for k, v in counts.items() if v))
        text = ", ".join(changes) or "same"
        print(f"  {name}: {text[:400]}{' ...' if len(text) > 400 else ''}")
    print("\ncurrent rule, queries below 1.0 precision or recall:")
    for r in per_query:
        c = r[base]
        if c["precision"] < 1 or c["recall"] < 1:
            print(f"  {r['q']:16} precision {c['precision']:.2f} recall {c['recall']:.2f} "
                  f"missed {c['missed']} wrong {c['wrong']}")
    print(f"\n{time.perf_counter() - started:.1f} s in all")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"cost": cost, "summary": summary, "queries": per_query},
                                    ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
