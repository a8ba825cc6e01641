"""The bundled seed model: trained from the project's own corpus on first use, then cached."""

from __future__ import annotations

from pathlib import Path

from classifier.model import ModelError, TrainedModel, read_meta, version_mismatch
from classifier.pipeline import Settings
from classifier.training import data_sha256, read_csv_examples, train_model

SEED_CORPUS = Path(__file__).parent / "data" / "seed_corpus.csv"
SEED_SETTINGS = {"cv_folds": 3, "random_state": 0}
# First-level categories of the public three-level taxonomy, in its order.
CATEGORIES = (
    "城乡建设", "党务政务", "国土资源", "环境保护", "纪检监察", "交通运输", "经济管理",
    "科技与信息产业", "民政", "农村农业", "商贸旅游", "卫生计生", "政法", "教育文体",
    "劳动和社会保障",
)


def load_seed_model(cache_dir: Path) -> TrainedModel:
    """The seed model from `cache_dir`, retrained there when corpus or libraries changed."""
    texts, labels = read_csv_examples(SEED_CORPUS)
    expected = data_sha256(texts, labels)
    settings = Settings.from_kwargs(**SEED_SETTINGS).as_dict()
    cache_dir = Path(cache_dir)
    try:
        meta = read_meta(cache_dir)
        fresh = (
            meta.get("data_sha256") == expected
            and not version_mismatch(meta)
            and _same_settings(meta.get("settings"), settings)
        )
        if fresh:
            return TrainedModel.load(cache_dir)
    except ModelError:
        pass  # no usable cache: train below
    model = train_model(texts, labels, **SEED_SETTINGS)
    model.save(cache_dir)
    return model


def _same_settings(saved: object, current: dict) -> bool:
    # JSON turns tuples into lists; compare in that form.
    return saved == {k: list(v) if isinstance(v, tuple) else v for k, v in current.items()}
