"""Complementary suppression on the public scorecards: no hidden count can be worked out as a
table's total minus the counts shown."""

import itertools

import pytest

from app.services.scorecards import complement


@pytest.mark.parametrize(("counts", "extra"), [
    ([12, 3, 40], {0}),            # one hidden: the smallest shown goes too
    ([12, 3, 40, 0], {0}),         # zeros are shown and never count as the complement
    ([12, 3, 2, 40], set()),       # two hidden, and 3 + 2 = 5 could be split many ways
    ([12, 1, 1, 40], {0}),         # 1 + 1: both would be known exactly
    ([12, 1, 1, 9, 40], {3}),      # the smallest shown, not the first
    ([7, 3], {0}),                 # two rows: both hidden
    ([3], set()),                  # nothing else to hide; the total is the row
    ([12, 40], set()),
    ([], set()),
])
def test_the_smallest_shown_counts_are_hidden_until_nothing_follows(counts, extra):
    assert complement(counts, 5) == extra


def test_no_hidden_count_follows_from_the_total_and_the_counts_shown():
    # Every table of up to four rows of 0..7: the hidden rows are never one alone, nor a sum
    # under the threshold, unless every non-zero row is hidden; only small rows and the
    # smallest others are hidden.
    for counts in itertools.product(range(8), repeat=4):
        small = {i for i, n in enumerate(counts) if 0 < n < 5}
        extra = complement(list(counts), 5)
        hidden = small | extra
        still_shown = [n for i, n in enumerate(counts) if n > 0 and i not in hidden]
        if small and still_shown:
            assert len(hidden) > 1 and sum(counts[i] for i in hidden) >= 5, counts
        assert all(counts[i] >= 5 for i in extra), counts
        shown_big = [counts[i] for i in range(4) if counts[i] >= 5 and i not in hidden]
        assert all(counts[i] <= n for i in extra for n in shown_big), counts
