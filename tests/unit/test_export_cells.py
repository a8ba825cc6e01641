"""A cell a spreadsheet would run as a formula is exported as plain text."""

import pytest

from app.services.exports import neutralise


@pytest.mark.parametrize("text", ["=1+1", "+86", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_formula_start_is_prefixed_with_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["小区电梯=坏了", "1+1", "", "'已有引号", " =1"])
def test_other_text_is_kept(text):
    assert neutralise(text) == text


def test_control_characters_that_xlsx_cannot_hold_are_dropped():
    assert neutralise("电梯\x00坏\x07了") == "电梯坏了"
