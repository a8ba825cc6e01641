"""Quality of the near-duplicate finder on the shared Teddy Cup data, over parameter settings.

Pairs (never stored; built from ../shared/data/appeals_train.csv each run):
- positives found in the data: the same body under different titles; the same title over a
  reposted body (difflib ratio of the bodies >= REPOST_RATIO); and reposts with no shared
  title or body — two messages sharing a rare 12-character run (in at most 5 messages) whose
  bodies reach REPOST_RATIO (the same letter sent again, re-addressed, masked or touched up).
  The blocking by exact runs and the difflib ratio are independent of the MinHash settings
  measured, so recall on these is not flattered by how they were found.
- 'rewritten': the same title over a body written anew (ratio < REPOST_RATIO: the same
  grievance told again, by the same person as far as one can tell). Reported apart and
  left out of precision and recall: character shingles are not meant to see paraphrase.
- positives generated from real messages with a seeded RNG: a few characters or words
  deleted, inserted or replaced, two sentences swapped, a greeting or thanks added or
  dropped, a number or a place code changed, the title dropped, and three of these at once.
- negatives: random pairs of different messages, and 'hard' pairs of the same category
  naming the same place code (A6区, K3县...), and short messages (body under SHORT
  characters) of the same category. Pairs sharing a rare 12-character run whose bodies stay
  under REPOST_RATIO (quoting each other, or one campaign's letters) are on neither side.

The finder's decision is the service's: an LSH candidate (a whole band equal) AND the
estimate >= threshold. The candidate rate is exact over all pairs of the data's messages
(known duplicates left out): the share of appeals one search reads, which sets its cost.

Run by hand: `python tests/benchmarks/eval_similar.py [--data DIR] [--quick]`.
Prints the table, the TF-IDF baseline and the machine; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import itertools
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from datasketch import MinHash  # noqa: E402
from datasketch.hashfunc import sha1_hash32  # noqa: E402

from app.domain import similarity  # noqa: E402
from tests.benchmarks.machine import describe  # noqa: E402

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
REPOST_RATIO = 0.8
RUN = 12
RARE = 5
GREETINGS = ["尊敬的领导您好！", "尊敬的领导：您好！", "领导您好，", "您好！", "尊敬的市长：你好！"]
CLOSINGS = ["谢谢！", "望早日解决，谢谢！", "恳请领导重视，谢谢。", "感谢！"]
_GREETING = re.compile(r"^\s*(尊敬的)?[^，,。！!：:\s]{0,10}?(领导|书记|市长|厅长|局长|主任|县长|区长|"
                       r"部长|同志|你们|您|你)好?[：:，,！!。\s]*")
_CLOSING = re.compile(r"[，,。！!\s]*(谢谢|感谢|此致敬礼)[^。！!]{0,6}[。！!]*\s*$")
_SENTENCE = re.compile(r"(?<=[。！？!?；;])")
_PLACE = re.compile(r"([A-Z])(\d{1,2})(?=[市县区州])")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Pair:
    a: tuple[str, str]  # (title, body)
    b: tuple[str, str]
    kind: str
    same: bool | None  # None: reported apart, in neither precision nor recall


@dataclass(frozen=True)
class Params:
    shingle: int = similarity.SHINGLE
    num_perm: int = similarity.NUM_PERM
    bands: int = similarity.BANDS
    strip_greetings: bool = False

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    def label(self) -> str:
        greet = " -greet" if self.strip_greetings else ""
        return f"k={self.shingle} n={self.num_perm:<3} b={self.bands:<2} r={self.rows}{greet}"


def read_rows(data: Path = SHARED) -> list[dict[str, str]]:
    with (data / "appeals_train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{"title": r["title"].strip(), "detail": r["detail"].strip(), "label": r["label"]}
            for r in rows if r["detail"].strip()]


def text_of(row: dict[str, str]) -> tuple[str, str]:
    return row["title"], row["detail"]


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _runs(rows: list[dict[str, str]]) -> set[tuple[int, int]]:
    """Pairs of messages sharing a 12-character run that at most RARE messages contain."""
    holders: dict[str, set[int]] = defaultdict(set)
    for i, row in enumerate(rows):
        body = similarity.normalise("", row["detail"])
        for start in range(max(len(body) - RUN + 1, 0)):
            holders[body[start:start + RUN]].add(i)
    pairs = set()
    for ids in holders.values():
        if 1 < len(ids) <= RARE:
            pairs.update(itertools.combinations(sorted(ids), 2))
    return pairs


def data_pairs(rows: list[dict[str, str]]) -> tuple[list[Pair], set[tuple[int, int]]]:
    """Duplicates found in the data, and every index pair that must not serve as a negative."""
    pairs: list[Pair] = []
    taken: set[tuple[int, int]] = set()
    by_body: dict[str, list[int]] = defaultdict(list)
    by_title: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_body[row["detail"]].append(i)
        if row["title"]:
            by_title[row["title"]].append(i)
    for ids in by_body.values():
        for i, j in itertools.combinations(ids, 2):
            taken.add((i, j))
            pairs.append(Pair(text_of(rows[i]), text_of(rows[j]), "data: same body", True))
    for ids in by_title.values():
        for i, j in itertools.combinations(ids, 2):
            if (i, j) in taken:
                continue
            taken.add((i, j))
            close = ratio(rows[i]["detail"], rows[j]["detail"]) >= REPOST_RATIO
            kind = "data: same title, reposted" if close else "data: same title, rewritten"
            pairs.append(Pair(text_of(rows[i]), text_of(rows[j]), kind, True if close else None))
    for i, j in sorted(_runs(rows) - taken):
        taken.add((i, j))
        r = ratio(rows[i]["detail"], rows[j]["detail"])
        if r >= REPOST_RATIO:
            pairs.append(Pair(text_of(rows[i]), text_of(rows[j]), "data: repost", True))
    return pairs, taken


def _words(text: str) -> list[str]:
    from classifier.tokenize import get_tokenizer
    return get_tokenizer().lcut(text, HMM=False)


def _edit_chars(rng: random.Random, text: str, pool: str, count: int) -> str:
    chars = list(text)
    for _ in range(count):
        op = rng.choice("dir")
        at = rng.randrange(len(chars)) if chars else 0
        if op == "d" and chars:
            del chars[at]
        elif op == "i" or not chars:
            chars.insert(at, rng.choice(pool))
        else:
            chars[at] = rng.choice(pool)
    return "".join(chars)


def _edit_words(rng: random.Random, text: str, vocabulary: list[str], count: int) -> str:
    words = _words(text)
    for _ in range(count):
        op = rng.choice("dir")
        at = rng.randrange(len(words)) if words else 0
        if op == "d" and len(words) > 1:
            del words[at]
        elif op == "i" or not words:
            words.insert(at, rng.choice(vocabulary))
        else:
            words[at] = rng.choice(vocabulary)
    return "".join(words)


def _swap_sentences(rng: random.Random, text: str) -> str | None:
    parts = [p for p in _SENTENCE.split(text) if p.strip()]
    if len(parts) < 2:
        return None
    i, j = rng.sample(range(len(parts)), 2)
    parts[i], parts[j] = parts[j], parts[i]
    return "".join(parts)


def _greeting(rng: random.Random, text: str) -> str:
    start, end = _GREETING.match(text), _CLOSING.search(text)
    if start and start.end() < len(text):
        text = text[start.end():]
    else:
        text = rng.choice(GREETINGS) + text
    if end and rng.random() < 0.5:
        return text[:end.start()]
    return text + rng.choice(CLOSINGS) if rng.random() < 0.5 else text


def _number_or_place(rng: random.Random, text: str) -> str | None:
    places = list(_PLACE.finditer(text))
    numbers = list(_NUMBER.finditer(text))
    if places and (not numbers or rng.random() < 0.5):
        hit = rng.choice(places)
        new = str(rng.choice([n for n in range(1, 15) if str(n) != hit.group(2)]))
        return text[:hit.start(2)] + new + text[hit.end(2):]
    if numbers:
        hit = rng.choice(numbers)
        digits = len(hit.group())
        new = str(rng.randrange(10 ** (digits - 1), 10 ** digits))
        if new == hit.group():
            new = str(int(new) + 1)
        return text[:hit.start()] + new + text[hit.end():]
    return None


EDITS = ("chars", "words", "sentences", "greeting", "number/place", "title dropped", "three",
         "three, short")
SHORT = 100  # characters of body: where a few edits weigh most


def edit(rng: random.Random, kind: str, title: str, body: str, pool: str,
         vocabulary: list[str]) -> tuple[str, str] | None:
    """One light rewrite of a real message, or None where the edit has nothing to work on."""
    if kind == "chars":
        return title, _edit_chars(rng, body, pool, rng.randint(1, 5))
    if kind == "words":
        return title, _edit_words(rng, body, vocabulary, rng.randint(1, 3))
    if kind == "sentences":
        swapped = _swap_sentences(rng, body)
        return None if swapped is None else (title, swapped)
    if kind == "greeting":
        return title, _greeting(rng, body)
    if kind == "number/place":
        changed = _number_or_place(rng, body)
        return None if changed is None else (title, changed)
    if kind == "title dropped":
        return None if not title else ("", body)
    # "three" and "three, short": a resident typing the message again
    parts = ["greeting", "chars", rng.choice(["words", "sentences", "number/place"])]
    for part in parts:
        done = edit(rng, part, title, body, pool, vocabulary)
        if done is not None:
            title, body = done
    return title, body


def edited_pairs(rows: list[dict[str, str]], rng: random.Random, per_kind: int) -> list[Pair]:
    sample = rng.sample(rows, min(len(rows), 600))
    pool = "".join(r["detail"] for r in sample)
    vocabulary = [w for r in sample[:200] for w in _words(r["detail"]) if w.strip()]
    pairs = []
    for kind in EDITS:
        made = 0
        sources = [r for r in rows if len(r["detail"]) < SHORT] if kind.endswith("short") else rows
        for row in rng.sample(sources, len(sources)):
            if made == per_kind:
                break
            edited = edit(rng, kind, row["title"], row["detail"], pool, vocabulary)
            if edited is None or edited == text_of(row):
                continue
            pairs.append(Pair(text_of(row), edited, f"edit: {kind}", True))
            made += 1
    return pairs


def place_of(row: dict[str, str]) -> str | None:
    hit = _PLACE.search(row["title"]) or _PLACE.search(row["detail"])
    return None if hit is None else hit.group(0)


def negative_pairs(rows: list[dict[str, str]], taken: set[tuple[int, int]], rng: random.Random,
                   random_count: int, hard_count: int) -> list[Pair]:
    pairs = []
    seen = set(taken)

    def add(i: int, j: int, kind: str) -> bool:
        key = (min(i, j), max(i, j))
        if i == j or key in seen:
            return False
        seen.add(key)
        pairs.append(Pair(text_of(rows[i]), text_of(rows[j]), kind, False))
        return True

    while len(pairs) < random_count:
        add(rng.randrange(len(rows)), rng.randrange(len(rows)), "negative: random")
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        place = place_of(row)
        if place:
            groups[(row["label"], place)].append(i)
    groups_list = [ids for ids in groups.values() if len(ids) > 1]
    weights = list(itertools.accumulate(len(ids) for ids in groups_list))
    made = 0
    while made < hard_count:
        ids = rng.choices(groups_list, cum_weights=weights)[0]
        made += add(*rng.sample(ids, 2), "negative: same category and place")
    # Short messages share a larger part of their shingles by chance (greetings, 噪音扰民).
    short: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if len(row["detail"]) < SHORT:
            short[row["label"]].append(i)
    labels = [ids for ids in short.values() if len(ids) > 1]
    made = 0
    while made < hard_count:
        made += add(*rng.sample(rng.choice(labels), 2), "negative: short, same category")
    return pairs


def build_pairs(rows: list[dict[str, str]], seed: int = 0, per_kind: int = 300,
                random_count: int = 20000, hard_count: int = 5000,
                ) -> tuple[list[Pair], set[tuple[int, int]]]:
    """The pairs, and the index pairs of the data's duplicates (left out of candidate rates)."""
    rng = random.Random(seed)
    found, taken = data_pairs(rows)
    return found + edited_pairs(rows, rng, per_kind) + negative_pairs(
        rows, taken, rng, random_count, hard_count), taken


class Sketcher:
    """signature() of app.domain.similarity under other parameters (equal at its own)."""

    def __init__(self, params: Params):
        self.params = params
        self.permutations = MinHash(num_perm=params.num_perm, seed=similarity.SEED,
                                    scheme=similarity.SCHEME).permutations
        self._hashes: dict[str, list[int]] = {}
        self._signatures: dict[tuple[str, str], np.ndarray] = {}

    def normalise(self, title: str, body: str) -> str:
        if self.params.strip_greetings:
            title, body = title, strip_greetings(body)
        return similarity.normalise(title, body)

    def signature(self, title: str, body: str) -> np.ndarray:
        done = self._signatures.get((title, body))
        if done is None:
            done = self._signatures[(title, body)] = self._signature(title, body)
        return done

    def _signature(self, title: str, body: str) -> np.ndarray:
        text = self.normalise(title, body)
        hashes = self._hashes.get(text)
        if hashes is None:
            k = self.params.shingle
            grams = ({text} if text else set()) if len(text) <= k else {
                text[i:i + k] for i in range(len(text) - k + 1)}
            hashes = self._hashes[text] = [sha1_hash32(g.encode()) for g in grams]
        minhash = MinHash(num_perm=self.params.num_perm, seed=similarity.SEED,
                          permutations=self.permutations, scheme=similarity.SCHEME,
                          hashfunc=int)
        minhash.update_batch(hashes)
        return minhash.hashvalues.astype(np.uint32)


def strip_greetings(body: str) -> str:
    start = _GREETING.match(body)
    if start and start.end() < len(body):
        body = body[start.end():]
    end = _CLOSING.search(body)
    return body[:end.start()] if end and end.start() > 0 else body


def band_hits(a: np.ndarray, b: np.ndarray, bands: int) -> bool:
    return bool((a == b).reshape(bands, -1).all(axis=1).any())


@dataclass
class Scored:
    pair: Pair
    candidate: bool
    estimate: float


def score(pairs: list[Pair], signature, bands: int, num_perm: int) -> list[Scored]:
    scored = []
    for pair in pairs:
        a, b = signature(*pair.a), signature(*pair.b)
        scored.append(Scored(pair, band_hits(a, b, bands),
                             float(np.count_nonzero(a == b)) / num_perm))
    return scored


@dataclass
class Quality:
    threshold: float
    precision: float
    recall: float
    by_kind: dict[str, float]  # recall of each positive kind, false-positive rate of each negative
    negative_max: float  # the highest estimate (or cosine) of a negative pair

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 0.0 if total == 0 else 2 * self.precision * self.recall / total


def quality(scored: list[Scored], threshold: float, *, lsh: bool = True) -> Quality:
    hits: dict[str, list[bool]] = defaultdict(list)
    tp = fp = fn = 0
    for s in scored:
        found = (s.candidate or not lsh) and s.estimate >= threshold
        hits[s.pair.kind].append(found)
        if s.pair.same is None:
            continue
        tp += found and s.pair.same
        fp += found and not s.pair.same
        fn += (not found) and s.pair.same
    by_kind = {kind: sum(v) / len(v) for kind, v in sorted(hits.items())}
    precision = tp / (tp + fp) if tp + fp else 1.0
    negatives = [s.estimate for s in scored if s.pair.same is False]
    return Quality(threshold, precision, tp / (tp + fn) if tp + fn else 0.0, by_kind,
                   max(negatives, default=0.0))


def candidate_rate(rows: list[dict[str, str]], sketcher: Sketcher,
                   taken: set[tuple[int, int]]) -> float:
    """Share of all pairs of distinct messages (known duplicates left out) that are candidates."""
    bands = sketcher.params.bands
    signatures = np.stack([sketcher.signature(*text_of(r)) for r in rows])
    n = len(rows)
    codes = []
    for band in signatures.reshape(n, bands, -1).transpose(1, 0, 2):
        _, inverse = np.unique(band, axis=0, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(inverse[order])) + 1)
        for group in groups:
            if len(group) > 1:
                i, j = np.triu_indices(len(group), 1)
                low, high = np.minimum(group[i], group[j]), np.maximum(group[i], group[j])
                codes.append(low.astype(np.int64) * n + high)
    if not codes:
        return 0.0
    found = np.unique(np.concatenate(codes))
    known = np.array([i * n + j for i, j in taken], dtype=np.int64)
    count = len(found) - np.isin(found, known).sum()
    return float(count) / (n * (n - 1) / 2 - len(taken))


def tfidf_scores(rows: list[dict[str, str]], pairs: list[Pair]) -> list[Scored]:
    """TF-IDF cosine over jieba words (the issue's alternative); no candidate stage."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    def text(title: str, body: str) -> str:
        return f"{title} {body}"

    vectorizer = TfidfVectorizer(tokenizer=lambda t: [w for w in _words(t) if w.strip()],
                                 lowercase=False, token_pattern=None, sublinear_tf=True)
    vectorizer.fit([text(*text_of(r)) for r in rows])
    distinct = sorted({p.a for p in pairs} | {p.b for p in pairs})
    where = {t: i for i, t in enumerate(distinct)}
    vectors = normalize(vectorizer.transform([text(*t) for t in distinct]))
    left = vectors[[where[p.a] for p in pairs]]
    right = vectors[[where[p.b] for p in pairs]]
    cosines = np.asarray(left.multiply(right).sum(axis=1)).ravel()
    return [Scored(p, True, float(c)) for p, c in zip(pairs, cosines, strict=True)]


SETTINGS = [Params(k, n, b) for k in (2, 3, 4)
            for n, b in ((64, 16), (64, 32), (64, 8), (96, 32), (128, 32), (128, 16))]
SETTINGS += [Params(3, 64, 16, True), Params(3, 96, 32, True), Params(2, 96, 32, True)]
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def print_quality(label: str, q: Quality, rate: float | None, kinds: list[str]) -> None:
    cells = " ".join(f"{q.by_kind.get(k, float('nan')):6.3f}" for k in kinds)
    rate_cell = "" if rate is None else f"{rate:9.2e} {rate * 1e6:8.0f}"
    print(f"{label:<26} t={q.threshold:.2f} P={q.precision:.4f} R={q.recall:.4f} "
          f"F1={q.f1:.4f} negmax={q.negative_max:.2f} {rate_cell} | {cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="the current parameters only")
    parser.add_argument("--settings", nargs="*", default=None, metavar="K,N,B",
                        help="shingle,num_perm,bands to measure instead of the default list")
    args = parser.parse_args(argv)
    if not (args.data / "appeals_train.csv").is_file():
        print(f"no data in {args.data}; nothing to measure")
        return 0
    started = time.perf_counter()
    rows = read_rows(args.data)
    pairs, taken = build_pairs(rows, args.seed)
    counts: dict[str, int] = defaultdict(int)
    for p in pairs:
        counts[p.kind] += 1
    kinds = sorted(counts)
    print(f"{len(rows)} messages; pairs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"built in {time.perf_counter() - started:.1f} s")
    print("columns after |: recall of each positive kind / false-positive rate of each "
          "negative kind, in this order:")
    for i, kind in enumerate(kinds):
        print(f"  {i + 1}. {kind}")
    print(f"{'setting':<26} {'':6} {'':8} {'':8} {'':9} {'':11} cand.rate per1M")
    settings = [Params()] if args.quick else SETTINGS
    if args.settings:
        settings = [Params(*map(int, spec.split(","))) for spec in args.settings]
    for params in settings:
        sketcher = Sketcher(params)
        scored = score(pairs, sketcher.signature, params.bands, params.num_perm)
        rate = candidate_rate(rows, sketcher, taken)
        for threshold in THRESHOLDS:
            print_quality(params.label(), quality(scored, threshold), rate, kinds)
    scored = tfidf_scores(rows, pairs)
    print("TF-IDF cosine over jieba words (no candidate stage: every pair compared)")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        print_quality("tfidf", quality(scored, threshold, lsh=False), None, kinds)
    print(f"total {time.perf_counter() - started:.0f} s")
    print(describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
