"""scenes/story.py: what each stage's caption says is what that stage's op does."""

from __future__ import annotations

import spacefold as sf
from spacefold.scenes.story import narration


def test_a_linear_stage_is_told_by_its_shape() -> None:
    tr = sf.trace(sf.build("2-2-5-3-1", activation="relu", seed=0), sf.dataset("moons", n=20))
    said = {(st.kind, st.dim): narration(tr, k) for k, st in enumerate(tr.stages)}
    assert "rotates, scales and shears" in said[("linear", 2)]          # 2×2: square
    assert "5×2 matrix lifts the 2-D space into 5-D" in said[("linear", 5)]
    assert "3×5 matrix flattens the 5-D space onto 3-D" in said[("linear", 3)]
    assert "1×3 matrix turns every point into one number" in said[("linear", 1)]
    assert said[("bias", 2)] == "+b: the whole plane shifts"
    assert said[("bias", 5)] == "+b: the whole space shifts"
    assert "one number" not in said[("bias", 5)] and "plane" not in said[("bias", 1)]
