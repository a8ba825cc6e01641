"""Generated tracking secrets: the right alphabet, length and a uniform draw."""

from collections import Counter

from scipy.stats import chisquare

from app.services.secrets import (
    ALPHABET,
    PASSWORD_LENGTH,
    generate_password,
    generate_username,
    random_text,
)


def test_credentials_use_only_unambiguous_letters():
    assert not set("0O1lI") & set(ALPHABET)
    password, username = generate_password(), generate_username()
    assert len(password) == PASSWORD_LENGTH and set(password) <= set(ALPHABET)
    assert username.startswith("ms") and len(username) == 12
    assert set(username[2:]) <= set(ALPHABET)


def test_letters_are_drawn_uniformly():
    # A plain byte % 31 would favour the first letters by an eighth; this test would see it.
    counts = Counter("".join(random_text(1000) for _ in range(300)))
    assert set(counts) == set(ALPHABET)
    observed = [counts[letter] for letter in ALPHABET]
    assert chisquare(observed).pvalue > 1e-6


def test_no_two_passwords_alike():
    assert len({generate_password() for _ in range(2000)}) == 2000
