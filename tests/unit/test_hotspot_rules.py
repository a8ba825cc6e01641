"""app.domain.hotspots without I/O: planted topics clustered apart from unrelated texts, the
top words joined into phrases, and the heat figure."""

from app.domain import hotspots

NIGHT = ["城南大道工地夜间施工噪音扰民，打桩到凌晨两点，孩子睡不着",
         "工地半夜施工打桩噪音严重，城南大道整栋楼的人都睡不着",
         "城南大道建筑工地深夜施工，机器噪音扰民，夜里无法休息",
         "城南大道工地夜间施工不停，打桩噪音持续到凌晨",
         "投诉城南大道工地夜里施工噪音扰民，晚上睡不着觉"]
OTHER = ["医保报销比例为什么比去年低了，门诊报销政策能否解释",
         "公交车班次太少，早高峰等车要半个小时，建议增加发车",
         "菜市场有商贩缺斤短两，消费者多次吃亏，请市场监管检查",
         "路灯坏了好几个星期没人修，晚上一片漆黑很不安全"]


def test_a_planted_topic_is_one_cluster_and_the_rest_none():
    labels = hotspots.cluster([hotspots.document(t, "") for t in NIGHT + OTHER], min_size=5)
    assert len(set(labels[:5])) == 1 and labels[0] >= 0
    assert labels[5:] == [-1] * len(OTHER)


def test_too_small_a_group_is_no_cluster():
    labels = hotspots.cluster([hotspots.document(t, "") for t in NIGHT[:4] + OTHER])
    assert labels == [-1] * 8
    assert hotspots.cluster([]) == [] and hotspots.cluster(["", ""]) == [-1, -1]


def test_top_words_skip_grammar_and_join_overlapping_bigrams():
    corpus = hotspots.vectorize([hotspots.document(t, "") for t in NIGHT + OTHER])
    centre = hotspots.centroid(corpus.matrix, [0, 1, 2, 3, 4])
    words = hotspots.top_words(centre, corpus.vocabulary)
    assert any("施工" in w for w in words) and any("噪音" in w for w in words)
    assert not any(hotspots.is_stop(w) for w in words if len(w) == 2)
    assert any(len(w) > 2 for w in words)  # overlapping bigrams joined into phrases
    stop = hotspots.stop_bigrams(["我们", "领导", "尊敬"])
    assert hotspots.is_stop("的问") and hotspots.is_stop("我们") and hotspots.is_stop("领导", stop)
    assert not hotspots.is_stop("施工", stop) and not hotspots.is_stop("领导")


def test_heat_is_people_times_capped_growth_times_dissatisfaction():
    assert hotspots.heat(5, 6, 2, 2, 1) == 5 * 3.0 * 1.5
    assert hotspots.heat(10, 10, 10, 0, 0) == 10.0  # steady, unrated
    assert hotspots.heat(10, 10, 20, 4, 0) == 10.0  # shrinking counts as no growth
    assert hotspots.heat(7, 7, 0, 0, 0) == 21.0  # new: +200%
    assert hotspots.heat(5, 50, 1, 0, 0) == 15.0  # growth capped at +200%
    assert hotspots.growth(3, 2) == 0.5 and hotspots.growth(1, 0) == 1.0
