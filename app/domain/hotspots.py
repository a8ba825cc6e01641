"""Hotspots (热点) as pure computation: appeals' texts into topic clusters, their top words,
and the heat figure. No I/O; app.services.hotspots reads the appeals and keeps the results.

Text. An appeal is its character bigrams (app.domain.search_text: the stored search column,
so nothing is cut with jieba at build time), with the title's bigrams counted a second time:
the title names the problem. TF-IDF with sublinear term frequency, ignoring bigrams found in
one appeal only or in more than MAX_DF of them (and more than COMMON_MIN: greetings, 小区,
问题…), and each appeal cut to its TOP_FEATURES heaviest bigrams, so that a long letter does
not reach everything through its many pieces. The rows are divided by the length of the whole
vector (rare and common bigrams included), so the similarity compared is the cosine of the
full texts counting only their strongest shared bigrams: it never overstates how alike two
texts are, as renormalising what is left would for a text of mostly unique bigrams.

Clusters. Two appeals are neighbours when their cosine similarity is at least THRESHOLD
(sparse X·Xᵀ in row blocks) and they share at least SHARED of the smaller one's
neighbourhood (shared nearest neighbours: two topics touching through a few incidental words
have almost none in common, one topic has most). An appeal with CORE neighbours left is a
core; cores joined
through neighbouring cores form a cluster (connected components), and any other appeal joins
the cluster of its most similar core neighbour (DBSCAN's rule, which stops one loose pair
chaining two topics). A cluster whose members are not COHERENCE similar to their centroid on
average was still chained: it is clustered again with a threshold STEP higher, up to DEPTH
times (one still chained then is no topic, and dropped). Clusters under `min_size` appeals
are dropped.

Heat. heat = people × (1 + min(growth, 2)) × (1 + unsatisfied share), where people are the
distinct residents who wrote, growth = (count − previous) / max(previous, 1) against the
previous period of the same length (0 when it shrank; a topic new in this period counts its
whole count as growth), capped at +200% so that a handful of appeals cannot be hot on growth
alone, and the unsatisfied share is 不满意 among the rated appeals (0 when none is rated).
People dominate because 未诉先办 is about how many residents a problem reaches; growth says
it is spreading; dissatisfaction says the answers so far did not solve it. At the default
notify_heat of 20: 20 residents on a steady topic, 10 residents where there were 5, or 7
residents on a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from app.domain.search_text import grams, word_grams

THRESHOLD = 0.1
CORE = 3
SHARED = 0.5  # of the smaller neighbourhood, for an edge to stay
COHERENCE = 0.25
STEP = 0.03
DEPTH = 6
TOP_FEATURES = 60
MAX_DF = 0.03
COMMON_MIN = 50  # appeals: a bigram in fewer is never dropped as common
GROWTH_CAP = 2.0
BLOCK = 2000  # rows of X·Xᵀ computed at once
# Characters that make a bigram a piece of grammar rather than of a topic (的问, 了一…).
FUNCTION_CHARS = set("的了是在我你他她它们吗呢吧啊呀有和与及或也都就还又被把对从向给这那么")
EXTRA_STOP = frozenset({"何时", "是否", "怎么", "多少", "为什", "什么", "一下", "谢谢", "您好",
                        "你好", "可以", "没有", "已经", "现在", "市民", "群众", "居民", "业主"})


def document(title: str, body: str, stored: str | None = None) -> str:
    """What is clustered: every bigram of title and body (the stored search column when
    given), then the title's bigrams once more."""
    found = grams(title, body) if stored is None else stored
    return f"{found} {' '.join(sorted(word_grams(title)))}"


def stop_bigrams(words: Iterable[str]) -> frozenset[str]:
    """The two-character words of a stop list (classifier/stopwords.txt), with EXTRA_STOP."""
    return frozenset({w for w in words if len(w) == 2} | EXTRA_STOP)


def is_stop(bigram: str, stop: frozenset[str] = EXTRA_STOP) -> bool:
    return bigram in stop or any(c in FUNCTION_CHARS for c in bigram) or bigram.isdigit()


@dataclass
class Corpus:
    """The appeals of a build as l2-normalised TF-IDF rows, and the bigram of each column."""

    matrix: sparse.csr_matrix
    vocabulary: np.ndarray


def counts(documents: Sequence[str]) -> tuple[sparse.csr_matrix, list[str]]:
    """Each document's bigram counts, and the bigram of each column (a dict per token is
    several times faster than scikit-learn's CountVectorizer on pre-cut text)."""
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for text in documents:
        indices.extend([vocabulary.setdefault(token, len(vocabulary)) for token in text.split()])
        indptr.append(len(indices))
    matrix = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                               shape=(len(documents), len(vocabulary)))
    matrix.sum_duplicates()
    return matrix, list(vocabulary)


def vectorize(documents: Sequence[str], *, max_df: float = MAX_DF,
              top: int = TOP_FEATURES) -> Corpus:
    matrix, words = counts(documents)
    # TF-IDF as scikit-learn's TfidfTransformer(sublinear_tf=True, smooth_idf=True).
    found = np.bincount(matrix.indices, minlength=matrix.shape[1])
    idf = np.log((1 + len(documents)) / (1 + found)) + 1
    matrix.data = (1 + np.log(matrix.data)) * idf[matrix.indices].astype(np.float32)
    # The length of the whole text, rare and common bigrams included: dropping them from
    # the comparison must not make what is left look more alike than the texts are.
    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    lengths[lengths == 0] = 1
    # A share of a small set would drop a topic's own bigrams: never fewer than COMMON_MIN.
    common = max(int(max_df * len(documents)), COMMON_MIN)
    kept = np.flatnonzero((found >= 2) & (found <= common))
    matrix = _strongest(matrix[:, kept].tocsr(), top)
    matrix = sparse.diags((1 / lengths).astype(np.float32)) @ matrix
    return Corpus(matrix.tocsr().astype(np.float32), np.array(words, dtype=object)[kept])


def _strongest(matrix: sparse.csr_matrix, top: int) -> sparse.csr_matrix:
    """Each row's `top` heaviest entries."""
    data, indptr = matrix.data, matrix.indptr
    for row in np.flatnonzero(np.diff(indptr) > top):
        start, end = indptr[row], indptr[row + 1]
        values = data[start:end]
        cut = np.partition(values, len(values) - top)[len(values) - top]
        values[values < cut] = 0
    matrix.eliminate_zeros()
    return matrix


def neighbours(matrix: sparse.csr_matrix, threshold: float) -> sparse.csr_matrix:
    """The similarity graph: cosine >= threshold, without the diagonal."""
    transposed = matrix.T.tocsc()
    blocks = []
    for start in range(0, matrix.shape[0], BLOCK):
        block = (matrix[start:start + BLOCK] @ transposed).tocsr()
        block.data[block.data < threshold] = 0
        block.eliminate_zeros()
        blocks.append(block)
    graph = sparse.vstack(blocks).tocsr() if blocks else sparse.csr_matrix(matrix.shape[:1] * 2)
    graph.setdiag(0)
    graph.eliminate_zeros()
    return graph


def _shared(graph: sparse.csr_matrix) -> sparse.csr_matrix:
    """The neighbour graph without its bridges: an edge stays when its two ends share at
    least SHARED of the smaller one's neighbourhood (each counted in its own). Two topics
    touching through a few incidental words share almost no neighbours; one topic shares
    most of them."""
    linked = graph.copy()
    linked.data = np.ones_like(linked.data)
    linked.sum_duplicates()
    # Common neighbours on every edge, plus one: the same pattern as the graph's own.
    common = ((linked @ linked).multiply(linked) + linked).tocsr()
    common.sum_duplicates()
    degree = np.diff(linked.indptr)
    rows = np.repeat(np.arange(linked.shape[0]), degree)
    shared = common.data + 1  # |N[i] ∩ N[j]| with i and j in their own neighbourhoods
    smaller = np.minimum(degree[rows], degree[linked.indices]) + 1
    keep = shared >= SHARED * smaller
    weights = graph.tocsr()
    weights.sum_duplicates()
    return sparse.csr_matrix((weights.data[keep], (rows[keep], linked.indices[keep])),
                             shape=graph.shape)


def _components(graph: sparse.csr_matrix, core: int) -> np.ndarray:
    """DBSCAN's rule on the neighbour graph: -1 for an appeal near no core."""
    graph = _shared(graph)
    count = graph.shape[0]
    labels = np.full(count, -1, dtype=np.int64)
    cores = np.flatnonzero(np.diff(graph.indptr) >= core)
    if not len(cores):
        return labels
    _, found = connected_components(graph[cores][:, cores], directed=False)
    labels[cores] = found
    to_cores = graph[:, cores].tocsr()
    for row in np.flatnonzero(labels < 0):
        start, end = to_cores.indptr[row], to_cores.indptr[row + 1]
        if end > start:
            labels[row] = found[to_cores.indices[start + np.argmax(to_cores.data[start:end])]]
    return labels


def centroid(matrix: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
    found = np.asarray(matrix[rows].mean(axis=0)).ravel()
    norm = np.linalg.norm(found)
    return found / norm if norm else found


def _split(matrix: sparse.csr_matrix, min_size: int, threshold: float, depth: int) -> np.ndarray:
    labels = _components(neighbours(matrix, threshold), CORE)
    final = np.full(matrix.shape[0], -1, dtype=np.int64)
    number = 0
    for label in np.unique(labels[labels >= 0]):
        rows = np.flatnonzero(labels == label)
        if len(rows) < min_size:
            continue
        coherence = float(np.mean(matrix[rows] @ centroid(matrix, rows)))
        if coherence < COHERENCE and depth >= DEPTH:
            continue  # still chained at the highest threshold: no one topic
        if coherence < COHERENCE:
            inner = _split(matrix[rows], min_size, threshold + STEP, depth + 1)
            for sub in np.unique(inner[inner >= 0]):
                final[rows[inner == sub]] = number
                number += 1
        else:
            final[rows] = number
            number += 1
    return final


def cluster_matrix(matrix: sparse.csr_matrix, min_size: int) -> np.ndarray:
    """A cluster number per row (0, 1, …), -1 for rows in no cluster of min_size or more."""
    if matrix.shape[0] < min_size or matrix.shape[1] == 0:
        return np.full(matrix.shape[0], -1, dtype=np.int64)
    return _split(matrix, min_size, THRESHOLD, 0)


def cluster(documents: Sequence[str], min_size: int = 5) -> list[int]:
    """The clusters of `documents` (each `document(title, body)`), as a label per document;
    -1: in no cluster."""
    return cluster_matrix(vectorize(documents).matrix, min_size).tolist()


def top_words(weights: np.ndarray, vocabulary: np.ndarray, count: int = 8,
              stop: frozenset[str] = EXTRA_STOP) -> list[str]:
    """The heaviest bigrams of a centroid that are not grammar (nor in `stop`), joined where
    they overlap (开通 通天 天然 然气 → 开通天然气), heaviest phrase first."""
    order = [i for i in np.argsort(-weights)[:count * 4] if weights[i] > 0]
    pieces = [str(vocabulary[i]) for i in order
              if not is_stop(str(vocabulary[i]), stop)][:count * 2]
    phrases: list[str] = []
    left = list(pieces)
    while left:
        phrase = left.pop(0)
        grown = True
        while grown:
            grown = False
            for piece in left:
                if piece[0] == phrase[-1] and piece[1] not in phrase:
                    phrase, grown = phrase + piece[1], True
                elif piece[-1] == phrase[0] and piece[0] not in phrase:
                    phrase, grown = piece[0] + phrase, True
                else:
                    continue
                left.remove(piece)
                break
        if not any(phrase in other for other in phrases):
            phrases.append(phrase)
    return phrases[:count]


def growth(count: int, previous: int) -> float:
    """(count − previous) / max(previous, 1), never below 0."""
    return max(0.0, (count - previous) / max(previous, 1))


def heat(people: int, count: int, previous: int, rated: int, unsatisfied: int) -> float:
    share = unsatisfied / rated if rated else 0.0
    return round(people * (1 + min(growth(count, previous), GROWTH_CAP)) * (1 + share), 2)
