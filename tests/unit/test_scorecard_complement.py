"""Complementary suppression on the public scorecards: no hidden count can be worked out as a
table's total minus the counts shown."""

import itertools

import pytest

from app.services import stats
from app.services.scorecards import complement, lines, region_groups


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


def test_a_regions_departments_are_a_total_of_their_own():
    # Departments of 东城区 (990102) add up to its row in the regions table: hiding its small
    # one with a department elsewhere would still give it away as 990102's row minus 20.
    codes = ["990102-zhujian", "990102-jiaoyu", "990100-zhujian", "990100-jiaoyu"]
    rows = [stats.Row(None, code, code, {"received": n})
            for code, n in zip(codes, [3, 20, 8, 30], strict=True)]
    groups = region_groups(rows)
    assert sorted(map(sorted, groups)) == [[0, 1], [2, 3]]
    assert complement([3, 20, 8, 30], 5) == {2}  # the table alone: the smallest shown
    assert complement([3, 20, 8, 30], 5, groups) == {1, 2, 3}
    shown = lines(rows, 5, groups=groups)
    assert [line.received for line in shown] == ["<5", "—", "—", "—"]
    # Where the small one's region has another small one, nothing more is needed there.
    assert complement([3, 2, 40, 30], 5, [[0, 1], [2, 3]]) == set()


def test_every_group_with_a_hidden_count_hides_two_adding_up_to_the_threshold():
    groups = [[0, 1], [2, 3]]
    for counts in itertools.product(range(8), repeat=4):
        small = {i for i, n in enumerate(counts) if 0 < n < 5}
        hidden = small | complement(list(counts), 5, groups)
        for rows in [[0, 1, 2, 3], *groups]:
            inside = [i for i in rows if i in hidden]
            shown = [i for i in rows if counts[i] > 0 and i not in hidden]
            if inside and shown:
                assert len(inside) > 1 and sum(counts[i] for i in inside) >= 5, counts
