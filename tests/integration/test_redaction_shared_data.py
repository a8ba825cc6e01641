"""How much ordinary text redaction takes away, measured on the shared real messages.

The messages (../shared/data, never in the repository) are a city message board's, with
names, phone numbers and places already partly anonymised by their publisher (digits as
0000-00000000, places as A市). Every span redaction takes out is checked by an independent,
stricter rule for its kind; a span that fails it is counted as an ordinary word wrongly
redacted. The rules are strict on purpose: this is an upper bound, not a flattering
figure (a real name after 尊敬的 fails the name rule, and counts as wrong).

Skipped where ../shared is absent.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from app.domain.redaction import find_spans, folded
from tests.conftest import USE_PG

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
APPEALS = SHARED / "appeals_train.csv"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not APPEALS.is_file(), reason=f"{SHARED} is absent"),
    # No database: it runs once, on the SQLite side (CI runs the engines side by side).
    pytest.mark.skipif(USE_PG, reason="no database involved; the SQLite run has it"),
]

TOP_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
                   "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦"
                   "邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳")
TITLE_AFTER = re.compile(r"^(?:副|总)?(?:先生|女士|小姐|老师|师傅|阿姨|大爷|大妈|同志|主任|书记|"
                         r"局长|科长|所长|站长|队长|经理|律师|医生|警官|院长|校长|县长|市长|"
                         r"镇长|村长|厅长|处长|部长|董事长)")
INTRO_BEFORE = re.compile(r"(?:我叫|名叫|姓名|联系人|本人|举报人|投诉人|反映人|申请人|当事人|业主|"
                          r"我是)[:：\s]?$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_valid(digits: str) -> bool:
    if len(digits) == 15:
        return digits.isdigit() and digits[0] in "123456789"
    if not re.fullmatch(r"\d{17}[\dX]", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == digits[17]


def personal(kind: str, value: str, before: str, after: str) -> bool:
    """The stricter rule: is this span personal data after all?"""
    plain = folded(value)
    digits = re.sub(r"[^0-9X]", "", plain.upper())
    anonymised = re.fullmatch(r"[0 \-]+", plain) is not None  # the publisher's 0000-00000000
    if kind == "phone":
        bare = re.sub(r"^(?:0086|86)(?=1\d{10}$)", "", digits)
        return anonymised or bool(re.fullmatch(r"1[3-9]\d{9}|0[1-9]\d{8,11}|\d{7,8}", bare)) \
            or bool(re.fullmatch(r"[〇零一二三四五六七八九幺]{11}", plain))
    if kind == "id":
        return _id_valid(digits)
    if kind == "email":
        return "@" in plain or " at " in plain or "(at)" in plain
    if kind == "account":
        return re.search(r"(?:QQ|qq|微信|wechat|vx|VX|微博)", before) is not None
    if kind == "plate":
        return re.fullmatch(r"[\u4e00-\u9fff][A-Z][·• .\-]?[A-Z0-9]{5,6}", plain.upper()) \
            is not None or bool(re.fullmatch(r"[A-Z0-9]{5,7}", plain.upper()))
    if kind == "number":
        return anonymised or re.fullmatch(r"\d{11,19}", plain) is not None
    if kind == "house":
        return bool(re.search(r"\d", plain)) and bool(
            re.search(r"单元|室|号楼|\d-\d+-\d|栋\d|幢\d|房$", plain)
            or re.search(r"[路街巷弄]$", before))
    if kind == "name":
        surname = value[0] in TOP_SURNAMES or value[:2] == "欧阳"
        if len(value) == 1:  # 李市长: an official by surname
            return surname and bool(TITLE_AFTER.match(after))
        return len(value) <= 4 and surname \
            and bool(TITLE_AFTER.match(after) or INTRO_BEFORE.search(before))
    return False


def read_texts() -> list[str]:
    with APPEALS.open(encoding="utf-8", newline="") as handle:
        return [f"{row['title']}\n{row['detail']}" for row in csv.DictReader(handle)]


def test_share_of_ordinary_text_wrongly_redacted_is_small():
    texts = read_texts()
    total_chars = sum(len(t) for t in texts)
    spans = wrong = redacted_chars = wrong_chars = 0
    by_kind: Counter[str] = Counter()
    wrong_by_kind: Counter[str] = Counter()
    examples = []
    for text in texts:
        for span in find_spans(text):
            size = span.end - span.start
            spans += 1
            redacted_chars += size
            by_kind[span.kind] += 1
            before, after = text[max(0, span.start - 8):span.start], text[span.end:span.end + 4]
            if not personal(span.kind, span.value, before, after):
                wrong += 1
                wrong_chars += size
                wrong_by_kind[span.kind] += 1
                if len(examples) < 40:
                    examples.append(f"{span.kind}: {before}【{span.value}】{after}")
    print(f"\nmessages {len(texts)}, characters {total_chars}, spans redacted {spans} "
          f"({redacted_chars} characters, {redacted_chars / total_chars:.3%} of the text)")
    print(f"spans by kind: {dict(by_kind)}")
    print(f"wrongly redacted (upper bound): {wrong} spans = {wrong / spans:.1%} of spans, "
          f"{wrong_chars} characters = {wrong_chars / total_chars:.3%} of all text; "
          f"by kind {dict(wrong_by_kind)}")
    print("\n".join(examples).replace("\r", " "))
    assert spans > 1000  # the data does hold personal data to find
    assert wrong_chars / total_chars < 0.002  # under 2 characters in 1000 of ordinary text
    assert wrong / spans < 0.35
