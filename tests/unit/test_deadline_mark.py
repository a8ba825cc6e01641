"""The red deadline mark of a page is overdue in its one meaning (app.domain.states)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.states import Status, counts_as_overdue
from app.web.presenters import deadline_mark

DUE = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("now", [DUE - timedelta(days=3), DUE - timedelta(seconds=1), DUE,
                                 DUE + timedelta(seconds=1), DUE + timedelta(days=10)])
def test_the_mark_is_red_exactly_when_the_appeal_counts_as_overdue(rules, status, now):
    mark = deadline_mark(rules, status.value, "complaint", DUE, now)
    overdue = counts_as_overdue(status, DUE, now)
    assert mark["overdue"] is overdue
    assert (mark["color"] == "red") is overdue
