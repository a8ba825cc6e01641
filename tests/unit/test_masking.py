"""Contacts that residents write into free text are masked wherever staff export it."""

import pytest

from app.domain.masking import mask_free_text


@pytest.mark.parametrize(("text", "masked"), [
    ("请联系13812345678处理", "请联系138****5678处理"),
    ("电话 +86 138-1234-5678 张", "电话 138****5678 张"),
    ("座机010-87654321或0755 1234567", "座机010****4321或075****4567"),
    ("邮箱 zhang.san@example.com.cn 谢谢", "邮箱 z***@example.com.cn 谢谢"),
    ("身份证11010519491231002X", "身份证110***********002X"),
    ("身份证110105194912310021号", "身份证110***********0021号"),
])
def test_contacts_in_text_are_masked(text, masked):
    assert mask_free_text(text) == masked


@pytest.mark.parametrize("text", [
    "2024年3月12日起噪声扰民", "编号MS20240312-000123", "投诉金额12345元", "", "第1234567号文件",
])
def test_text_without_contacts_is_kept(text):
    assert mask_free_text(text) == text


def test_no_digit_of_a_masked_number_survives_in_the_middle():
    out = mask_free_text("A13812345678B 110105194912310021")
    assert "12345678" not in out and "1949123100" not in out
