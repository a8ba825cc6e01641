"""How an appeal can end: the resident's ratings of a reply, and the reasons a dispatcher
may give for 不予受理. Models, services and pages all take their keys and labels from here."""

RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

REJECT_REASONS = {
    "no_substance": "恶意诉求或无实质内容",
    "out_of_scope": "不属于本平台受理范围",
    "other_channel": "已通过诉讼、仲裁、行政复议或信访等渠道处理",
    "duplicate": "重复诉求，已在办理或已办结",
    "other": "其他",
}
# The reason that says nothing by itself: an explanation is owed with it.
EXPLAINED_REASON = "other"
