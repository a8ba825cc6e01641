"""Redaction before publication (app.domain.redaction): a corpus of texts with planted
personal data, written the many ways residents write it; no planted value may survive, and
ordinary text around it stays as it was."""

from __future__ import annotations

import itertools
import re

import pytest

from app.domain.masking import find_personal_data, mask_free_text
from app.domain.redaction import MARKS, find_spans, folded, leftovers, pieces, redact

FULL = str.maketrans("0123456789X-+", "０１２３４５６７８９Ｘ－＋")

MOBILES = ["13812345678", "15998765432", "18600001111", "17712340000", "19955556666"]


def mobile_writings(number: str) -> list[str]:
    a, b, c = number[:3], number[3:7], number[7:]
    return [number, f"{a}-{b}-{c}", f"{a} {b} {c}", f"+86{number}", f"+86 {a} {b} {c}",
            f"+86-{a}-{b}-{c}", f"86-{number}", f"0086 {number}", f"{a}.{b}.{c}",
            number.translate(FULL), f"{a}－{b}－{c}".translate(FULL), f"{a}—{b}—{c}",
            "".join("〇一二三四五六七八九"[int(d)] for d in number),
            " ".join(number), "".join("零壹贰叁肆伍陆柒捌玖"[int(d)] for d in number),
            "{} {} {}".format(*("".join("〇一二三四五六七八九"[int(d)] for d in part)
                                for part in (a, b, c))),
            f"({a}){b}{c}"[1:].replace(")", "")]


LANDLINES = ["024-23456789", "0411-8765432", "(024)23456789", "（0411）87654321",
             "024 2345 6789", "02423456789", "010-66668888", "０２４－２３４５６７８９",
             "0731-84567890转123"]
IDS = ["210102199001011234", "21010219900101123X", "11010519491231002x", "440301200012250016",
       "２１０１０２１９９００１０１１２３Ｘ", "2101 0219 9001 0112 34", "210102-19900101-1234",
       "130503670401001"]  # the last: a 15-digit ID of the old kind
MAILS = ["zhangsan@163.com", "li.si_88@qq.com", "wang-wu@example.com.cn", "ZHAO6@Sina.CN",
         "chen.liu+appeal@gmail.com", "zhangsan＠163.com", "lisi(at)qq.com", "wangwu#163.com",
         "sunqi at 126 dot com", "zhou@mail.example.org"]
PLATES = ["辽A12345", "辽A·12345", "辽B D12345", "辽AD12345", "京N12345D", "沪A·8H8H8",
          "粤B12345", "川A 3F5K7", "辽a12345", "苏E·D66666", "浙A-12345", "辽ＡＤ１２３４５",
          "辽 A12345", "辽A·D12345", "鲁B·12345学"]
NAMES = [("我叫", "张三"), ("我叫", "欧阳娜娜"), ("我是", "李明"), ("姓名：", "王建国"),
         ("联系人：", "赵红"), ("联系人", "孙丽丽"), ("本人", "刘德海"), ("名叫", "陈晓"),
         ("姓名:", "周杰"), ("举报人：", "吴大伟"), ("投诉人", "郑秀英"), ("我叫", "司马光明"),
         ("真实姓名：", "冯小刚"), ("联系人:", "上官婉"), ("我是", "张三丰"),
         ("我叫 ", "林小雨"), ("联系人：", "何先生"), ("姓名 ", "马丽"),
         ("本人姓名：", "刘洋")]
ADDRESSED = [("王", "先生"), ("李", "女士"), ("张", "老师"), ("欧阳", "女士"), ("刘", "师傅"),
             ("陈", "阿姨"), ("黄", "大爷"), ("周", "经理"), ("吴", "书记"), ("赵", "主任")]
HOUSES = ["3号楼2单元502室", "5栋1单元301", "12栋3号", "门牌 18号", "门牌号为25号",
          "幸福路25号", "A座1203室", "7栋1802号", "3-2-1606", "家住5号楼4层",
          "8幢2单元1101", "9栋2单元502", "住在和平巷1号201房", "8号院3号楼",
          "人民路128号", "门牌号：解放街36号"]
OTHERS = [("银行卡号", "6222021234567890123"), ("微信号：", "zhang_san88"),
          ("QQ：", "307485221"), ("qq号", "123456789"), ("电话", "8765432")]

SENTENCES = [
    "我们小区的电梯坏了一个多月，物业公司一直不修，{x}，请尽快处理。",
    "{x}反映：楼下餐馆油烟很大，晚上十点以后还在营业。",
    "如需核实情况，请联系{x}，谢谢！",
    "工地夜间施工噪音扰民（{x}），已经持续两周了。",
    "{x}",
    "关于拖欠工资的问题，{x}。盼复。",
]


def corpus() -> list[tuple[str, str]]:
    """(text, planted value) pairs: every writing in several sentences."""
    planted = []
    for number in MOBILES:
        planted += [("手机" + w, w) for w in mobile_writings(number)]
    planted += [("座机" + w, w) for w in LANDLINES]
    planted += [("身份证号" + w, w) for w in IDS]
    planted += [("身份证号码：" + w, w) for w in IDS[:4]]
    planted += [("邮箱" + w, w) for w in MAILS]
    planted += [("我的邮箱是 " + w + " ", w) for w in MAILS]
    planted += [("车牌" + w, w) for w in PLATES]
    planted += [("一辆" + w + "的轿车", w) for w in PLATES]
    planted += [(t + n, n) for t, n in NAMES]
    planted += [(s + t, s + t) for s, t in ADDRESSED]  # the surname before the title
    planted += [("我家住" + h, h) for h in HOUSES]
    planted += [(t + v, v) for t, v in OTHERS]
    return [(s.format(x=x), value) for (x, value), s in
            zip(planted, itertools.cycle(SENTENCES))] + \
        [(s.format(x=x), value) for (x, value), s in
         zip(planted, itertools.cycle(SENTENCES[::-1]))]


def survives(value: str, redacted: str) -> bool:
    """Whether the planted value, or any telling part of it, is still readable."""
    plain = folded(redacted).lower()
    value = folded(value).lower()
    digits = re.sub(r"[^0-9x]", "", value)
    if len(digits) >= 5:
        return digits[-5:] in re.sub(r"[^0-9x]", "", plain) or value in plain
    if re.search(r"[\u4e00-\u9fff]", value) and not re.search(r"\d", value):
        return value in plain  # a name: as a whole
    return value in plain or (len(value) > 4 and value[-4:] in plain)


CORPUS = corpus()


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) > 300
    assert len({value for _, value in CORPUS}) > 140


@pytest.mark.parametrize(("text", "value"), CORPUS, ids=[f"{i}" for i in range(len(CORPUS))])
def test_no_planted_value_survives(text, value):
    redacted, spans = redact(text)
    assert not survives(value, redacted), (text, redacted)
    assert spans and all(span.value == text[span.start:span.end] for span in spans)


def test_marks_name_the_kind():
    redacted, _ = redact("我叫张三，手机13812345678，身份证210102199001011234，邮箱zs@163.com，"
                         "车牌辽A12345，住3号楼2单元502室，银行卡6222021234567890123。")
    assert redacted == ("我叫[姓名]，手机[电话]，身份证[证件号]，邮箱[邮箱]，车牌[车牌]，"
                        "住[门牌]，银行卡[号码]。")
    assert set(MARKS.values()) >= {"[姓名]", "[电话]", "[证件号]", "[邮箱]", "[车牌]", "[门牌]"}


ORDINARY = [
    "我们小区3号楼电梯坏了一个多月，物业公司一直推脱不修，老人上下楼很困难，请管一管。",
    "2019年3月5日至今，工地每天晚上施工到12点，噪音超过70分贝。",
    "每月工资3500元，已经拖欠了6个月，共计21000元。",
    "请问社保卡丢失后到哪里补办，需要带什么材料，多久能拿到？",
    "拨打12345热线和12315消费者热线都没有人处理。",
    "向老板讨要工资被拒，班主任说学校不管，各位领导请关注。",
    "本人于去年购买了该小区的房子，交房时间一再推迟。",
    "我是一名退休教师，今年68岁，身体不好。",
    "学校的语文老师和数学老师都反映食堂饭菜质量差。",
    "该路段限速60公里，每天上下班高峰期拥堵严重，建议增设红绿灯。",
    "二室一厅的房子月租金1500元，押一付三。",
    "经核查，已责令物业公司三日内修复电梯，并安排人员跟进。",
    "根据《劳动合同法》第三十条和第八十五条的规定，用人单位应当按时足额支付劳动报酬。",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == (text, [])


def test_a_name_is_taken_whole_and_wherever_it_stands_again():
    assert redact("我是张三丰的家属，想咨询低保。")[0] == "我是[姓名]的家属，想咨询低保。"
    assert redact("我叫王五。王五家门口的路灯坏了。")[0] == "我叫[姓名]。[姓名]家门口的路灯坏了。"
    assert redact("已通知王五。", known={"王五"})[0] == "已通知[姓名]。"


def test_a_redacted_text_is_redacted_already():
    for text, _ in CORPUS[:80]:
        once, _ = redact(text)
        assert redact(once) == (once, []), once


def test_leftovers_are_the_certain_kinds_only():
    assert [s.kind for s in leftovers("联系我13812345678或zs@163.com")] == ["phone", "email"]
    assert leftovers("王先生家住3号楼2单元502室") == []  # the approver's judgement
    assert leftovers("[电话] [邮箱] [姓名]") == []


def test_pieces_cut_the_text_at_the_spans():
    text = "我叫张三，电话13812345678。"
    assert pieces(text) == [("我叫", None), ("张三", "name"), ("，电话", None),
                            ("13812345678", "phone"), ("。", None)]
    assert "".join(p for p, _ in pieces(text)) == text


def test_masking_is_unchanged_by_redaction():
    # redaction builds on masking's detector; what staff see masked stays as it was.
    text = "电话13812345678，邮箱zhangsan@163.com，身份证210102199001011234"
    assert [f.kind for f in find_personal_data(text)] == ["mobile", "email", "id"]
    assert mask_free_text(text) == "电话138****5678，邮箱z***@163.com，身份证210***********1234"


def test_spans_do_not_overlap_and_keep_order():
    text = "联系人：王建国 13812345678 zs@163.com 辽A12345 3号楼2单元502室"
    spans = find_spans(text)
    assert [s.kind for s in spans] == ["name", "phone", "email", "plate", "house"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
