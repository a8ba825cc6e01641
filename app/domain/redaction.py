"""Redaction of what is published (DESIGN.md, "Personal data"): names, phone numbers, ID
numbers, mail addresses, licence plates, house numbers and other long numbers are replaced
by a mark ("[姓名]", "[电话]" …) before an approver sees the draft of a published reply.

Pure: no I/O. `redact(text)` gives the redacted text and the spans it replaced (offsets into
the original text), so the approver's page can show what was taken out. `leftovers(text)`
is what approval checks again on the approver's edited text. Detection reads the text with
full-width letters and digits folded to ASCII (the same length, so offsets hold).

Over-redaction is the cheaper mistake here: a wrongly hidden word costs the reader a word,
a missed number costs a resident their privacy. Names are the uncertain kind: taken after
a word that introduces one (我叫, 姓名, 联系人, 本人 …) or before a form of address (王先生,
李女士, 欧阳老师), never from a dictionary of all names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.masking import find_personal_data

MARKS = {
    "name": "[姓名]",
    "phone": "[电话]",
    "id": "[证件号]",
    "email": "[邮箱]",
    "plate": "[车牌]",
    "house": "[门牌]",
    "number": "[号码]",
    "account": "[账号]",
}
KIND_LABELS = {"name": "姓名", "phone": "电话号码", "id": "证件号码", "email": "电子邮箱",
               "plate": "车牌号", "house": "门牌号", "number": "长串号码",
               "account": "社交账号"}
# What approval refuses to publish even if the approver typed it back (app.services
# .publication): the kinds found without doubt. Names and house numbers are the approver's
# judgement.
MUST_NOT_REMAIN = ("phone", "id", "email", "plate", "number", "account")

# Full-width ASCII (！ to ～) and the ideographic space, folded one character for one.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FOLD |= {ord(c): "-" for c in "‐‑‒–—―－﹣"} | {ord("。"): "."} | {ord("＠"): "@"}


def folded(text: str) -> str:
    """`text` with full-width letters, digits and dashes as ASCII, character for character."""
    return text.translate(_FOLD)


@dataclass(frozen=True)
class Span:
    kind: str  # a key of MARKS
    start: int
    end: int
    value: str

    @property
    def mark(self) -> str:
        return MARKS[self.kind]


# --- numbers: phones, IDs, long numbers -----------------------------------------------------

# A run of digits with single separators between groups, optionally a +86 / 0086 prefix and
# an area code in brackets, optionally ending in X (an ID number's check digit).
_SEP = r"[ \-]"
_DIGIT_RUN = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:(?:\+|00)?86" + _SEP + r"?|\+86\(0\))?"
    r"(?:[(（]0\d{2,3}[)）]" + _SEP + r"?)?"
    r"\d(?:" + _SEP + r"{0,2}\d)*(?:" + _SEP + r"?[Xx](?![A-Za-z]))?"
    r"(?![0-9])"
)
_DOTTED_MOBILE = re.compile(r"(?<![0-9])1[3-9]\d\.\d{4}\.\d{4}(?![0-9])")
# Digits written as Chinese numerals (幺三八…), as people do to dodge filters.
_HAN_DIGIT = "〇零一二三四五六七八九幺壹贰叁肆伍陆柒捌玖"
_HAN_DIGITS = re.compile(r"[一幺壹](?:[ \-]?[" + _HAN_DIGIT + r"]){10}(?![" + _HAN_DIGIT + r"])")
_PHONE_WORD = re.compile(r"(电话|手机|号码|联系方式|联系|致电|拨打|热线|座机|tel|TEL|Tel|"
                         r"phone|微信|来电|短信)[^\u4e00-\u9fff0-9]{0,6}[\u4e00-\u9fff]{0,2}$")


def _number_kind(run: str, before: str) -> str | None:
    digits = re.sub(r"[^0-9Xx]", "", run)
    bare = digits
    for prefix in ("0086", "86"):
        if bare.startswith(prefix) and len(bare) - len(prefix) in (10, 11, 12):
            bare = bare[len(prefix):]
            break
    if len(bare) == 11 and re.fullmatch(r"1[3-9]\d{9}", bare):
        return "phone"
    if re.fullmatch(r"\d{17}[\dXx]|\d{15}", digits):
        return "id"
    if re.fullmatch(r"0[1-9]\d{8,11}", bare):
        return "phone"  # a landline with its area code (and maybe an extension)
    if "X" in digits.upper():
        return None
    if len(digits) >= 11:
        return "number"  # bank cards, account and order numbers
    if len(digits) == 5 and digits[0] in "19":
        return None  # 12345, 12315, 95598: public service lines, not a person's
    if len(digits) >= 5 and _PHONE_WORD.search(before):
        return "phone"  # a local number, a short QQ, after a word that introduces one
    return None


def _numbers(text: str) -> list[Span]:
    found = [Span("phone" if f.kind in ("mobile", "landline") else f.kind, f.start, f.end,
                  f.value) for f in find_personal_data(text)]
    for match in _DIGIT_RUN.finditer(text):
        kind = _number_kind(match[0], text[max(0, match.start() - 12):match.start()])
        if kind is not None:
            found.append(Span(kind, match.start(), match.end(), match[0]))
        else:  # a run that joined two numbers: each part judged on its own
            for part in re.finditer(r"\d+(?:[Xx](?![A-Za-z]))?", match[0]):
                start = match.start() + part.start()
                kind = _number_kind(part[0], text[max(0, start - 12):start])
                if kind is not None:
                    found.append(Span(kind, start, start + len(part[0]), part[0]))
    found += [Span("phone", m.start(), m.end(), m[0]) for m in _HAN_DIGITS.finditer(text)]
    found += [Span("phone", m.start(), m.end(), m[0]) for m in _DOTTED_MOBILE.finditer(text)]
    return found


# --- mail addresses and accounts -------------------------------------------------------------

_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]*\s?(?:@|\(at\)|\[at\]|（at）| at |#|艾特)\s?"
    r"[A-Za-z0-9-]+(?:\s?(?:\.|\(dot\)|\[dot\]| dot |点)\s?[A-Za-z0-9-]+)*"
    r"\s?(?:\.|\(dot\)|\[dot\]| dot |点)\s?"
    r"(?:com|cn|net|org|edu|gov|info|top|cc|me|io)(?![A-Za-z0-9])",
    re.IGNORECASE)
_ACCOUNT = re.compile(r"(?:QQ|qq|微信号?|wechat|WeChat|vx|VX|微博)\s?(?:号码?|号)?\s?[:：]?\s?"
                      r"(?P<value>[A-Za-z0-9][A-Za-z0-9_\-]{4,19})(?![A-Za-z0-9_])")


def _mails(text: str) -> list[Span]:
    found = [Span("email", m.start(), m.end(), m[0]) for m in _EMAIL.finditer(text)]
    for m in _ACCOUNT.finditer(text):
        if re.search(r"\d", m["value"]) or len(m["value"]) >= 6:
            found.append(Span("account", m.start("value"), m.end("value"), m["value"]))
    return found


# --- licence plates ------------------------------------------------------------------------

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    r"[" + _PROVINCES + r"]\s?[A-HJ-NP-Za-hj-np-z]\s?[·•・.\- ]?\s?"
    r"(?P<tail>[A-HJ-NP-Za-hj-np-z0-9]{5,6}|[A-HJ-NP-Za-hj-np-z0-9]{4}[挂学警港澳领])"
    r"(?![A-Za-z0-9])")
_PLATE_WORD = re.compile(r"车牌(?:号码?|号)?\s?(?:为|是)?\s?[:：]?\s?"
                         r"(?P<value>[A-Za-z0-9]{5,7})(?![A-Za-z0-9])")


def _plates(text: str) -> list[Span]:
    found = [Span("plate", m.start(), m.end(), m[0]) for m in _PLATE.finditer(text)
             if sum(c.isdigit() for c in m["tail"]) >= 2]
    found += [Span("plate", m.start("value"), m.end("value"), m["value"])
              for m in _PLATE_WORD.finditer(text) if re.search(r"\d", m["value"])]
    return found


# --- house numbers -------------------------------------------------------------------------

_NUM = r"(?:[A-Za-z]?\d{1,5}[A-Za-z]?|[一二三四五六七八九十百零〇两]{1,4})"
_UNIT = r"(?:号楼|号院|号门|栋|幢|座|单元|楼|层|室|号|户|房)"
_CHAIN = re.compile(r"(?:第?" + _NUM + r"\s?-?\s?" + _UNIT + r")+"
                    r"(?:\d{2,5}(?![0-9年月日元万岁个多次天号人户平米㎡.%余]))?")
_HOUSEHOLD = re.compile(r"[A-Za-z]?\d{3,5}\s?(?:室|房)$")
_DASHED = re.compile(r"(?<![0-9\-])\d{1,3}-\d{1,2}-\d{2,4}(?:室|号|户)?(?![0-9\-])")
_ADDRESS_WORD = re.compile(r"(门牌|住址|地址|家住|住在|住|居住|位于)[号为是:：\s]{0,3}$")
_STREET = re.compile(r"[\u4e00-\u9fff](?:路|街|道|巷|弄|胡同|里|村|组|屯)$")


def _houses(text: str) -> list[Span]:
    found = [Span("house", m.start(), m.end(), m[0]) for m in _DASHED.finditer(text)
             if _ADDRESS_WORD.search(text[max(0, m.start() - 8):m.start()])
             or m[0][-1] in "室号户" or re.fullmatch(r"\d+-\d+-\d{3,4}", m[0])]
    for m in _CHAIN.finditer(text):
        parts = re.findall(_NUM + r"\s?-?\s?" + _UNIT + r"|\d{2,5}$", m[0])
        before = text[max(0, m.start() - 8):m.start()]
        if text[m.end():m.end() + 1] == "型":
            continue  # 05户型: a floor plan
        if not re.search(r"\d", m[0]) or re.fullmatch(r"\d+号(?:\d+号)+", m[0]):
            continue  # 二室二厅, 37号38号文件: no household's address
        if (len(parts) >= 2 or _HOUSEHOLD.search(m[0])
                or (m[0].endswith("号") and (_ADDRESS_WORD.search(before)
                                             or _STREET.search(before)))):
            found.append(Span("house", m.start(), m.end(), m[0]))
    return found


# --- names ---------------------------------------------------------------------------------

_COMPOUND = ("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 "
             "钟离 闻人 澹台 公冶 太史 端木 申屠 南宫 独孤 西门 万俟 呼延").split()
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁"
    "岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆"
    "蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚"
    "岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛"
    "仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘"
    "满闻厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容"
    "敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银"
    "亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")
# Words that start like a surname but are not a name in the places names are looked for.
_NOT_GIVEN = set("的了是在和与及或等们人家村镇乡区县市省街路楼院校厂店司局委会所站队部组户"
                 "室处科厅办副总长务说示下上并班姓没"
                 "某些个位名次年月日号都也就还又要想能会把被对向从于给让为今去来")
_NOT_NAME_WORDS = ("业主", "居民", "村民", "市民", "群众", "老人", "学生", "家长", "员工",
                   "职工", "农民", "工人", "租户", "住户", "本人", "患者", "退休", "小区",
                   "一名", "一位", "一个", "这里", "那里", "外地", "本地", "当地", "之前",
                   "现在", "公司", "单位", "政府", "领导", "老师", "医生", "司机", "师傅",
                   "商户", "店主", "房东", "负责", "管理", "物业", "社区", "孩子", "母亲",
                   "父亲", "儿子", "女儿", "妻子", "丈夫", "爱人", "朋友", "同学", "邻居",
                   "高三", "高二", "高一", "初三", "初二", "初一", "中国", "国家", "全体",
                   "广大", "所有", "多名", "多位", "部分", "很多", "许多", "大家", "我们",
                   "你们", "他们", "她们", "由于", "因为", "关于", "对于", "通过", "经过",
                   "已经", "曾经", "目前", "平时", "每天", "每月", "每年", "长期", "常年",
                   "金额", "费用", "工资", "房子", "房屋", "明天", "后天", "以前", "以后",
                   "子女", "车主", "司法", "明确", "和谐", "文明", "安全", "平安", "正常",
                   "严重", "强烈", "高度", "龙头", "万元", "千元", "百元", "元旦", "方便",
                   "方面", "左右", "上下", "水电", "电梯", "时间", "时候", "权益",
                   "成绩", "来说", "钱财", "单位", "明白", "安排", "安置", "高速",
                   "高层", "高铁", "高价", "江边", "黄金", "石头", "白天", "金融",
                   "文件", "张贴", "于是", "于此", "管理", "万一", "万多", "解决", "解释",
                   "应该", "应当", "连续", "连同", "宁愿", "常住", "任何", "任意", "任务",
                   "易于", "齐全", "包括", "包含", "云南", "江西", "湖南", "武汉", "付款",
                   "付费", "付出", "关于", "关心", "关系", "关注", "史上", "项目", "施工",
                   "林业", "周边", "周末", "周围", "严格", "谢谢", "路段", "路口", "路面",
                   "车辆", "车位", "车库", "代表", "房产", "房价", "房租", "师范", "和平",
                   "商品", "商铺", "商业", "余额", "余下", "初步", "初期", "计划", "水平",
                   "公开", "公共", "公平", "公正", "公路", "公安", "公园", "公告", "公示",
                   "全部", "全面", "国有", "国土", "平方", "信息", "展开", "都是", "都有",
                   "来电", "敬请", "敬礼", "万望", "申诉", "申请", "普通", "高级",
                   "相关", "卫生", "公社", "商场", "商店", "劳动", "通讯", "安保", "安全",
                   "孟公", "江声", "高中", "高温", "敬祝", "程中", "蓝天", "施压", "辜负",
                   "辛苦", "但该", "但是", "关招", "居住", "爸爸", "妈妈", "农业",
                   "相应", "相信", "宣传", "区域", "门口", "门面", "容易")
_STRONG = r"(?:我叫|姓名|联系人|署名|落款|真实姓名)"
_WEAK = (r"(?:我是|本人|名叫|举报人|投诉人|反映人|申请人|当事人|业主|户主|车主|经办人|"
         r"负责人|签字人|联系电话|书记|主任|局长|经理|科长|所长|站长|队长|院长|校长|县长|"
         r"市长|镇长|村长|厅长|处长|部长|董事长|会计|民警|警官|医生|老师)")
_HAN = r"[\u4e00-\u9fff]"
_TRIGGERED = re.compile(
    # The name in a lookahead: a trigger followed by another (本人姓名：刘洋) is still seen.
    r"(?P<trigger>" + _STRONG + r"|" + _WEAK + r")(?=(?:是|为|叫)?\s?[:：]?\s?"
    r"(?P<name>" + _HAN + r"{2,4}))")
_TITLES = sorted(("先生 女士 小姐 老师 师傅 阿姨 大爷 大妈 大姐 大哥 同志 老先生 老太太 奶奶 "
                  "爷爷 叔叔 主任 书记 局长 科长 所长 站长 队长 经理 总经理 律师 医生 警官 "
                  "院长 校长 县长 市长 镇长 村长 厅长 处长 部长 董事长").split(),
                 key=len, reverse=True)
_TITLE = re.compile(r"(?:副|总)?(?:" + "|".join(_TITLES) + r")")
# Two characters before a title that make it a word, not a name: 语文老师, 班主任.
_TITLE_WORDS = ("语文", "数学", "英语", "体育", "音乐", "美术", "物理", "化学", "历史", "地理",
                "政治", "生物", "科学", "班主", "主治", "教导", "副", "相关", "普通", "高级",
                "没有", "中学", "小学", "大学", "特级", "优秀", "代课", "任课", "班级", "学校",
                "保安")
# A character and the one before it that make a word, so no surname starts there: 尊敬叶书记.
_WORD_PAIRS = frozenset({"尊敬", "遵敬", "致敬", "主任", "班主", "校长", "常务", "业务",
                         "财务", "政务", "主管", "担任", "任何", "感谢", "有关", "辛苦"})
_END_OF_NAME = re.compile(r"[\s，,。.；;：:、！!？?（()）“”\"'0-9A-Za-z]|$|男|女|今年|电话|手机|"
                          r"身份|联系|住|家住|现住|年龄|性别|等|和|与|在|是|于|从|向|反映|"
                          r"投诉|举报|咨询|来电|一家|夫妇|夫妻|户|的|我|这|今|现")
_CONJUNCTIONS = set("和与及或等的是为都也已被在、")
# Words of address that are not preceded by a name even when a "surname" stands there.
_ADDRESS_STOPS = {"向", "于", "和", "从", "与", "对", "给", "由", "让", "被", "把", "为",
                  "将", "跟", "请", "找", "问", "叫", "令", "老", "小", "大", "班", "全",
                  "一", "各", "诸", "那", "这", "哪", "某", "本", "该", "此", "其", "贵",
                  "司", "国", "都", "来", "应", "信", "平", "成", "明", "海",
                  "强", "利", "相", "展", "时", "区", "门", "云", "初", "计", "宣", "容"}


def _surname_at(text: str) -> int:
    """The length of the surname `text` starts with (0: none)."""
    if text[:2] in _COMPOUND:
        return 2
    return 1 if text[:1] in SURNAMES else 0


def _name_length(candidate: str, after: str, strong: bool) -> int:
    """How many characters of `candidate` (2–4 Han characters) are a name (0: none)."""
    surname = _surname_at(candidate)
    if any(candidate.startswith(word) for word in _NOT_NAME_WORDS):
        return 0
    if not surname and not strong or not strong and candidate[0] in _ADDRESS_STOPS:
        return 0
    if candidate[0] in _CONJUNCTIONS:  # 姓名和电话
        return 0
    first = surname or 1
    for size in (first + 2, first + 1):
        if size > len(candidate):
            continue
        given = candidate[first:size]
        if any(c in _NOT_GIVEN for c in given):
            continue
        rest = candidate[size:] + after
        if strong or _END_OF_NAME.match(rest):
            return size
    return 0


def _addressed(text: str, title_at: int) -> Span | None:
    """The name before a form of address (王先生, 李伟红老师), longest first."""
    if text[max(0, title_at - 2):title_at] in _TITLE_WORDS:
        return None
    for size in (3, 2, 1):
        start = title_at - size
        name = text[max(0, start):title_at]
        if start < 0 or not re.fullmatch(_HAN + "+", name) \
                or text[max(0, start - 1):start + 1] in _WORD_PAIRS:
            continue
        surname = _surname_at(name)
        if not surname or surname > size or name[0] in _ADDRESS_STOPS \
                and name[:2] not in _COMPOUND:
            continue
        if any(c in _NOT_GIVEN for c in name[surname:]) \
                or any(name.startswith(word) for word in _NOT_NAME_WORDS):
            continue
        return Span("name", start, title_at, name)
    return None


def _names(text: str) -> list[Span]:
    found = []
    for m in _TRIGGERED.finditer(text):
        strong = re.fullmatch(_STRONG, m["trigger"]) is not None
        size = _name_length(m["name"], text[m.end("name"):m.end("name") + 3], strong)
        if size:
            start = m.start("name")
            found.append(Span("name", start, start + size, text[start:start + size]))
    for m in _TITLE.finditer(text):
        span = _addressed(text, m.start())
        if span is not None:
            found.append(span)
    return found


# --- together ------------------------------------------------------------------------------

def names_in(text: str | None) -> set[str]:
    """The names found in `text` (two characters or more), to look for elsewhere."""
    return {span.value for span in find_spans(text) if span.kind == "name"
            and len(span.value) >= 2}


def _known(text: str, known: Iterable[str]) -> list[Span]:
    """Every occurrence of a name found once (我叫王五 … 王五反映): a name introduced in one
    place is the same name everywhere."""
    found = []
    for name in {n for n in known if len(n) >= 2}:
        if not _surname_at(name) or any(name.startswith(w) for w in _NOT_NAME_WORDS):
            continue  # only what reads as a name is looked for everywhere
        found += [Span("name", m.start(), m.end(), name)
                  for m in re.finditer(re.escape(name), text)]
    return found


def find_spans(text: str | None, known: Iterable[str] = ()) -> list[Span]:
    """Every piece of personal data found in `text`, in order, overlaps merged (the wider
    span wins; of two kinds over the same characters, the first found). `known`: names
    found elsewhere (the same appeal's other texts, the resident's name), redacted wherever
    they stand."""
    if not text:
        return []
    plain = folded(text)
    spans = [*_mails(plain), *_numbers(plain), *_plates(plain), *_houses(plain),
             *_names(plain)]
    spans += _known(plain, {s.value for s in spans if s.kind == "name"} | set(known))
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    merged: list[Span] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.kind, last.start, span.end, text[last.start:span.end])
            continue
        merged.append(Span(span.kind, span.start, span.end, text[span.start:span.end]))
    return merged


def redact(text: str | None, known: Iterable[str] = ()) -> tuple[str, list[Span]]:
    """`text` with every span found replaced by its mark, and the spans (offsets into
    `text`, values as written there); `known` as for find_spans."""
    text = text or ""
    spans = find_spans(text, known)
    parts, last = [], 0
    for span in spans:
        parts += [text[last:span.start], span.mark]
        last = span.end
    return "".join(parts) + text[last:], spans


def leftovers(text: str | None, kinds: tuple[str, ...] = MUST_NOT_REMAIN) -> list[Span]:
    """The spans of `kinds` still in `text` (an approver's edited draft)."""
    return [span for span in find_spans(text) if span.kind in kinds]


def pieces(text: str | None, known: Iterable[str] = ()) -> list[tuple[str, str | None]]:
    """`text` cut into (piece, kind or None) for a page that highlights what is redacted."""
    text = text or ""
    found, last = [], 0
    for span in find_spans(text, known):
        if span.start > last:
            found.append((text[last:span.start], None))
        found.append((span.value, span.kind))
        last = span.end
    if last < len(text):
        found.append((text[last:], None))
    return found


def own_values(name: str, email: str, phone: str) -> list[tuple[str, str]]:
    """A resident's own contact values, as (label, value) to look for in text others read."""
    found = []
    if len(name.strip()) >= 2:
        found.append(("诉求人姓名", name.strip()))
    if email:
        found.append(("诉求人邮箱", email.strip().lower()))
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 7:
        found.append(("诉求人电话", digits[-11:]))
    return found


def own_value_in(text: str, own: list[tuple[str, str]]) -> str | None:
    """The label of the first of `own` (own_values) that `text` holds, in any writing."""
    plain = folded(text).lower()
    digits = re.sub(r"\D", "", plain)
    for label, value in own:
        if (label == "诉求人电话" and value in digits) or \
                (label != "诉求人电话" and value.lower() in plain):
            return label
    return None
