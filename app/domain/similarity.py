"""Near-duplicate appeals: MinHash signatures over character shingles, and LSH band keys.

Two appeals that say the same thing share most of their short character sequences, however
the words are cut, so the text is reduced to its letters, digits and Chinese characters and
cut into overlapping SHINGLE-character pieces. A MinHash signature of NUM_PERM values
(datasketch) estimates the Jaccard similarity of two such sets as the share of equal values.
The signature is cut into BANDS bands of ROWS values; two appeals whose signatures agree on
a whole band are candidates (probability 1 - (1 - J**ROWS)**BANDS for similarity J), and the
candidates are then judged by the estimate. A band's key also carries the area (the city an
appeal's region belongs to), so a common phrase in one city never floods another's search.
"""

from __future__ import annotations

import hashlib
import re
import struct
from functools import lru_cache

import numpy as np
from datasketch import MinHash

# Chosen by tests/benchmarks/eval_similar.py on the shared Teddy Cup data (2,732 duplicate
# pairs found in it or made from it by light edits, 30,000 different pairs): with the
# thresholds of routing.yaml `similar:` (0.4; 0.3 for the same person) precision 1.000,
# recall 0.996 (short messages edited three ways 0.97), the highest estimate of a different
# pair 0.21, and 1.3e-6 of random pairs LSH candidates (about one per million appeals of an
# area). 3-character shingles keep different messages further apart than 2 (highest 0.33);
# 3 rows a band over 96 values find pairs near 0.4 that 64 values in 16 bands of 4 miss
# (recall 0.983 at 0.4); 4-character shingles lose recall on edits (0.971).
SHINGLE = 3
NUM_PERM = 96
BANDS = 32
ROWS = NUM_PERM // BANDS
SEED = 1
SCHEME = "affine32"  # datasketch 2: 32-bit values, fixed so stored signatures stay comparable

_KEEP = re.compile(r"[0-9a-z\u4e00-\u9fff]+")


def normalise(title: str, body: str) -> str:
    """The text that is compared: title and body, lower-case, without spaces or punctuation."""
    return "".join(_KEEP.findall(f"{title} {body}".lower()))


def shingles(text: str) -> set[bytes]:
    if len(text) <= SHINGLE:
        return {text.encode()} if text else set()
    return {text[i:i + SHINGLE].encode() for i in range(len(text) - SHINGLE + 1)}


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def signature(title: str, body: str) -> np.ndarray:
    """The MinHash signature of an appeal's text (NUM_PERM uint32 values)."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(),
                      scheme=SCHEME)
    minhash.update_batch(shingles(normalise(title, body)))
    return minhash.hashvalues.astype(np.uint32)


def to_bytes(values: np.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<u4")


def band_keys(values: np.ndarray, area: int) -> list[int]:
    """The LSH key of each band, a signed 64-bit integer (a BIGINT on both engines)."""
    raw = to_bytes(values)
    width = ROWS * 4
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(
            struct.pack("<iH", area, band) + raw[band * width:(band + 1) * width],
            digest_size=8).digest()
        keys.append(struct.unpack("<q", digest)[0])
    return keys


def estimate(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def estimates(values: np.ndarray, signatures: list[bytes]) -> np.ndarray:
    """`estimate` of `values` against each stored signature at once. A signature of another
    length (stored before NUM_PERM changed, not yet reindexed) is 0 alike."""
    width = NUM_PERM * 4
    scores = np.zeros(len(signatures))
    good = [i for i, data in enumerate(signatures) if len(data) == width]
    if good:
        matrix = np.frombuffer(b"".join(signatures[i] for i in good), dtype="<u4") \
            .reshape(len(good), NUM_PERM)
        scores[good] = np.count_nonzero(matrix == values, axis=1) / NUM_PERM
    return scores
