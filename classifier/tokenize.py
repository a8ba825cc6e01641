"""The jieba tokenizer every pipeline uses: one private dictionary, loaded once per process."""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

with warnings.catch_warnings():
    # jieba 0.42 carries old-style regex escapes; their SyntaxWarning is not ours to fix.
    warnings.simplefilter("ignore")
    import jieba

USER_DICT = Path(__file__).with_name("userdict.txt")
STOP_WORDS_FILE = Path(__file__).with_name("stopwords.txt")

_tokenizer: jieba.Tokenizer | None = None
_lock = threading.Lock()
_memo: dict[str, list[str]] | None = None
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
# Tokens worth showing as an explanation: at least one CJK character or Latin letter.
_MEANINGFUL = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def get_tokenizer() -> jieba.Tokenizer:
    """The process-wide jieba tokenizer with the government-terms dictionary loaded."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                with USER_DICT.open("rb") as handle:
                    tokenizer.load_userdict(handle)
                _tokenizer = tokenizer
    return _tokenizer


def normalize(text: str) -> str:
    """Lower-case, fold runs of digits to one 0 and collapse white space."""
    return _SPACE.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def tokenize(text: str) -> list[str]:
    """Jieba words of a normalised text, without white space; module-level so pipelines pickle."""
    if _memo is not None:
        tokens = _memo.get(text)
        if tokens is None:
            tokens = _memo[text] = _cut(text)
        return tokens
    return _cut(text)


def _cut(text: str) -> list[str]:
    # Without the HMM pass jieba is a third faster; character n-grams cover unknown words.
    # Jieba segments each run of CJK/Latin/digit characters on its own and white space always
    # ends a run, so cutting the white-space-separated pieces one by one gives the same words;
    # a piece seen before (the repeated title) reuses its words.
    cut = get_tokenizer().lcut
    done: dict[str, list[str]] = {}
    words: list[str] = []
    for piece in text.split():
        piece_words = done.get(piece)
        if piece_words is None:
            piece_words = done[piece] = cut(piece, HMM=False)
        words += piece_words
    return words


@contextmanager
def memoized() -> Iterator[None]:
    """Cut each distinct text once inside the block: cross-validation refits vectorisers often."""
    global _memo
    outer = _memo
    _memo = {} if outer is None else outer
    try:
        yield
    finally:
        _memo = outer


def read_stop_words(path: Path = STOP_WORDS_FILE) -> frozenset[str]:
    """Words of the stop list: white-space separated, '#' starts a comment."""
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        words.update(normalize(line.split("#", 1)[0]).split())
    return frozenset(words)


STOP_WORDS = read_stop_words()


def is_meaningful(token: str) -> bool:
    """A token worth showing as a driving word: a letter or CJK character, not a stop word."""
    return bool(_MEANINGFUL.search(token)) and token not in STOP_WORDS
