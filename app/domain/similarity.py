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

SHINGLE = 3
NUM_PERM = 64
BANDS = 16
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
