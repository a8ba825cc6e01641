"""What staff search reads: the character bigrams of an appeal's text, and phone keys.

Chinese is written without spaces, so a phrase is found by its overlapping pairs of
characters: 电梯故障 is in a text whose bigrams include 电梯, 梯故 and 故障 (and the
search then confirms the phrase itself, for adjacency). One lexeme per bigram, kept once
per appeal (`grams`), is what the PostgreSQL GIN index holds (see migration 0014).
A phone number is found only whole: digits normalised, compared by a hash (`phone_key`).
"""

from __future__ import annotations

import hashlib
import re

# Runs of characters a word is made of: CJK ideographs, Latin letters and digits.
_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Long digit runs (phone, ID and card numbers) are not indexed: a text search must not be
# a way to probe for someone's number by its pieces. They can still be found in full: the
# phrase is confirmed against the text itself.
_LONG_DIGITS = re.compile(r"[0-9]{7,}")


def normalised(text: str) -> str:
    return text.lower()


def _runs(text: str) -> list[str]:
    return [run for part in _LONG_DIGITS.split(normalised(text)) for run in _RUN.findall(part)]


def word_grams(word: str) -> set[str]:
    """The bigrams of a text or of one searched word (a lone character gives none: a word
    must hold two adjacent characters to be searched)."""
    return {run[i:i + 2] for run in _runs(word) for i in range(len(run) - 1)}


def grams(title: str, body: str) -> str:
    """The stored search column: every bigram of title and body once, space-separated."""
    return " ".join(sorted(word_grams(title) | word_grams(body)))


def words(query: str) -> list[str]:
    """A query's words: what space separates, each looked for as a phrase."""
    return list(dict.fromkeys(normalised(query).split()))


def phone_digits(phone: str) -> str:
    """A phone number's digits, without a +86 / 0086 country prefix; "" if it cannot be one."""
    digits = re.sub(r"\D", "", phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix):]
    return digits if 7 <= len(digits) <= 15 else ""


def phone_key(phone: str) -> str:
    """What the appeal row keeps to find its contact phone in full (never in part)."""
    digits = phone_digits(phone)
    return hashlib.sha256(f"minsheng-phone:{digits}".encode()).hexdigest() if digits else ""


_PHONE_QUERY = re.compile(r"\+?[0-9][0-9 \-]{5,22}")


def looks_like_phone(query: str) -> bool:
    return bool(_PHONE_QUERY.fullmatch(query.strip())) and bool(phone_digits(query))
