"""The stop list: function words and fillers never shown as an explanation's driving words."""

from __future__ import annotations

from classifier.tokenize import STOP_WORDS, is_meaningful, read_stop_words
from classifier.training import train_model

# Each category's fillers are its own, so without the stop list they would drive it.
CORPUS = {
    "城乡建设": [
        "尊敬的领导您好，我们小区电梯坏了，请给修一下，谢谢",
        "尊敬的领导您好，我们楼的电梯天天停运，请尽快维修",
        "尊敬的领导您好，我们小区物业不管电梯，请督促",
        "尊敬的领导您好，我们这栋楼电梯困人，请处理",
    ],
    "劳动和社会保障": [
        "老板不给工资，我不知道怎么办，您好",
        "公司不发工资三个月了，我不想再等",
        "工地拖欠工资，我不能过年，不给钱",
        "厂里不给工资也不交社保，我不服",
    ],
}


def test_stop_list_holds_the_fillers_named_in_the_issue():
    for word in ("给", "我", "不", "请", "您好", "尊敬", "领导", "的", "谢谢"):
        assert word in STOP_WORDS
    assert "电梯" not in STOP_WORDS and "工资" not in STOP_WORDS


def test_stop_list_file_allows_comments_and_several_words_a_line(tmp_path):
    path = tmp_path / "stop.txt"
    path.write_text("# fillers\n我 你  # pronouns\n\n  请问\n", encoding="utf-8")
    assert read_stop_words(path) == {"我", "你", "请问"}


def test_stop_words_and_punctuation_are_not_meaningful():
    assert not is_meaningful("您好")
    assert not is_meaningful("，")
    assert is_meaningful("电梯")


def test_driving_words_of_a_written_example_are_content_words():
    texts = [t for label in CORPUS for t in CORPUS[label]]
    labels = [label for label in CORPUS for _ in CORPUS[label]]
    model = train_model(texts, labels, cv_folds=0)
    message = "尊敬的领导您好，我们小区的电梯又坏了，老板也不给工资，请给解决一下"
    for candidate in model.predict_top(message, k=2):
        assert candidate.words, candidate
        assert not set(candidate.words) & STOP_WORDS, candidate
    words = {c.category: c.words for c in model.predict_top(message, k=2)}
    assert "电梯" in words["城乡建设"]
    assert "工资" in words["劳动和社会保障"]
