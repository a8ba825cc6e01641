"""The search lexemes and phone keys (app.domain.search_text): pure functions."""

from app.domain import search_text


def test_grams_are_the_adjacent_pairs_of_each_run_once():
    assert search_text.grams("电梯故障", "电梯，坏了").split() == sorted(
        {"电梯", "梯故", "故障", "坏了"})
    assert search_text.word_grams("小区物业管理") == {"小区", "区物", "物业", "业管", "管理"}
    assert search_text.word_grams("Wi-Fi") == {"wi", "fi"}
    assert search_text.word_grams("电，梯") == set()  # no two characters side by side


def test_long_digit_runs_are_not_indexed_short_ones_are():
    grams = search_text.grams("", "电话13812345678，3号楼")
    assert not set(grams.split()) & {"13", "38", "81", "12", "78"}
    assert {"3号", "号楼", "电话"} <= set(grams.split())


def test_a_phone_is_normalised_and_keyed_only_in_full():
    key = search_text.phone_key("13812345678")
    for typed in ("+86 138-1234-5678", "8613812345678", "0086 13812345678", "138 1234 5678"):
        assert search_text.phone_key(typed) == key
    assert search_text.phone_key("1381234567") != key
    assert search_text.phone_key("") == "" and search_text.phone_key("123") == ""
    assert "13812345678" not in key


def test_what_looks_like_a_phone_query():
    assert search_text.looks_like_phone("+86 138-1234-5678")
    assert search_text.looks_like_phone("024-23456789")
    assert not search_text.looks_like_phone("电梯 13812345678")
    assert not search_text.looks_like_phone("12")
