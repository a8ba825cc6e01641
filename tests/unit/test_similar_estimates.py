"""app.domain.similarity.estimates: many stored signatures judged at once, as estimate
judges one; a signature of another length (not yet reindexed) is never alike."""

import numpy as np

from app.domain import similarity


def test_estimates_agree_with_estimate_and_ignore_other_lengths():
    base = similarity.signature("小区电梯坏了", "三号楼电梯坏了一个多月物业不修")
    texts = [("小区电梯坏了", "三号楼电梯坏了一个多月物业不修，请管一管"),
             ("路灯不亮", "村口的路灯一直不亮，晚上出行很不方便"),
             ("小区电梯坏了", "三号楼电梯坏了一个多月物业不修")]
    stored = [similarity.to_bytes(similarity.signature(t, b)) for t, b in texts]
    stored.append(stored[0][:-4])  # one value short
    scores = similarity.estimates(base, stored)
    expected = [similarity.estimate(base, similarity.from_bytes(s)) for s in stored[:3]]
    assert np.allclose(scores[:3], expected)
    assert scores[2] == 1.0 and scores[1] < 0.2 < scores[0]
    assert scores[3] == 0.0
    assert similarity.estimates(base, []).shape == (0,)
