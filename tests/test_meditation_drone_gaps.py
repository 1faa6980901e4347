"""devtools.drone_gaps' detector: on a synthetic drone (the bed's own synth, the breath swell,
fades) it finds exactly the holes cut into it, and calls neither the fades nor the swell a gap."""

from __future__ import annotations

import numpy as np
import pytest

from devtools.drone_gaps import gaps
from visualizer.meditation.sound import BLOCK, SAMPLE_RATE, Synth, drone_level


def drone(seconds: float) -> np.ndarray:
    """The bed's drone, mono: a 2-s fade in and out, the breath swelling 0.55..1 at 6 a minute."""
    synth, out = Synth(), np.zeros((BLOCK, 2), np.float32)
    blocks = []
    for i in range(int(seconds * SAMPLE_RATE / BLOCK)):
        t = i * BLOCK / SAMPLE_RATE
        fade = min(t / 2.0, (seconds - t) / 2.0, 1.0)
        synth.target_gain = max(fade, 0.0) * drone_level(0.5 - 0.5 * np.cos(2 * np.pi * t / 10.0))
        synth.render(out)
        blocks.append(out[:, 0].copy())
    return np.concatenate(blocks)


@pytest.mark.parametrize("holes", [[], [(5.0, 0.06)], [(4.0, 0.2), (9.0, 0.03)]])
def test_gaps_finds_the_holes_cut_into_a_drone_and_nothing_else(holes):
    samples = drone(14.0)
    for start, length in holes:
        samples[round(start * SAMPLE_RATE):round((start + length) * SAMPLE_RATE)] = 0.0
    found = gaps(samples, SAMPLE_RATE)
    assert len(found["gaps"]) == len(holes)
    for (start, length), (_, found_ms) in zip(holes, found["gaps"]):
        assert found_ms == pytest.approx(1000 * length, abs=20)  # 10-ms windows, either edge
    assert 9.0 < found["span_s"] < 14.0  # the fades are outside the span
