"""A running process picks up a newly trained model on its own."""

from app.services import predictor
from classifier.training import train_model

TEXTS = {
    "交通运输": ["公交车晚点严重", "出租车拒载绕路", "公交线路被取消", "客运班车超员"],
    "教育文体": ["学校违规补课收费", "幼儿园学费太贵", "老师体罚学生", "学校食堂饭菜差"],
}


def _model(extra: str = ""):
    texts = [t + extra for ts in TEXTS.values() for t in ts]
    labels = [label for label, ts in TEXTS.items() for _ in ts]
    return train_model(texts, labels, cv_folds=0)


async def test_new_model_in_the_watched_folder_is_used_for_the_next_prediction(
        tmp_path, monkeypatch):
    folder = tmp_path / "model"
    previous = (predictor.current(), predictor._state.folder)
    first = _model()
    first.save(folder)
    predictor.install(first, folder)
    try:
        _, version = await predictor.predict("公交车又晚点了")
        assert version == first.version

        second = _model("。")
        assert second.version != first.version
        second.save(folder)
        monkeypatch.setattr(predictor, "RECHECK", 0.0)
        candidates, version = await predictor.predict("公交车又晚点了")
        assert version == second.version
        assert candidates[0].category == "交通运输"
    finally:
        predictor.install(*previous)
