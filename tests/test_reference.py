"""The colour reference (engine.phase_reference, render.colour.rotate_lut): a co-rotating frame for the 5meo look."""

import math

import numpy as np
import pytest

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.phase_reference import (
    MAX_TURN_RATE,
    PhaseReference,
    mean_unit_vector,
)
from visualizer.engine.session import Session
from visualizer.render.colour import palette_lut, rotate_lut
from visualizer.render.frames import FramePainter, pack_rgb0

FPS = 60


def _wrapped(a: float) -> float:
    return abs(math.remainder(a, 2 * math.pi))


def test_a_rotated_table_colours_each_phase_as_the_palette_colours_phase_minus_the_reference():
    lut = np.arange(1024, dtype=np.uint32)  # entry i = the palette's colour of phase 2πi/1024
    for steps in (0, 1, 100, 511, 1023, -7):
        reference = 2 * math.pi * steps / 1024
        rotated = rotate_lut(lut, reference)
        i = np.arange(1024)
        assert np.array_equal(rotated[i], lut[(i - steps) % 1024]), steps


def test_the_sampled_mean_is_the_whole_field_mean_and_sees_both_parities():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:256, 0:256]
    smooth = (0.7 + 0.8 * np.sin(2 * np.pi * x / 256) * np.cos(2 * np.pi * y / 128)).astype(np.float32)
    whole = np.exp(1j * smooth.astype(np.float64)).mean()
    assert abs(mean_unit_vector(smooth) - whole) < 0.02
    checkerboard = (0.4 + np.pi * ((x + y) % 2) + 0.05 * rng.standard_normal((256, 256))).astype(np.float32)
    assert abs(mean_unit_vector(checkerboard)) < 0.05  # in phase: the two parities cancel
    staggered = mean_unit_vector(checkerboard, staggered=True)
    assert abs(staggered) > 0.99 and _wrapped(math.atan2(staggered.imag, staggered.real) - 0.4) < 0.01


def test_the_reference_follows_a_coherent_field_and_never_jumps():
    reference = PhaseReference("mean")
    rng = np.random.default_rng(1)
    noise = 0.3 * rng.standard_normal((64, 64))
    lags = []
    for frame in range(240):  # a coherent field turning at 1 rad/s
        psi = math.remainder(1.0 * frame / FPS, 2 * math.pi)
        phase = reference.update((psi + noise).astype(np.float32), 1 / FPS)
        if frame > 60:
            lags.append(_wrapped(phase - psi))
    assert max(lags) < 0.16  # R ≈ 0.96 at FOLLOW_RATE 8: sin(lag) = 1 / (8 R) = 0.13
    # the field's mean phase jumps by π: the reference turns toward it no faster than the limit
    before = reference.phase
    flipped = (reference.phase + math.pi - 0.3 + noise).astype(np.float32)
    turns = []
    for _ in range(30):
        previous = reference.phase
        reference.update(flipped, 1 / FPS)
        turns.append(_wrapped(reference.phase - previous))
    assert max(turns) <= MAX_TURN_RATE / FPS + 1e-9
    assert _wrapped(reference.phase - before) > 1.0  # it did follow


def test_a_disordered_field_leaves_the_reference_almost_still():
    reference = PhaseReference("mean")
    rng = np.random.default_rng(2)
    start = reference.update(rng.uniform(-np.pi, np.pi, (64, 64)).astype(np.float32), 1 / FPS)
    for _ in range(FPS):
        end = reference.update(rng.uniform(-np.pi, np.pi, (64, 64)).astype(np.float32), 1 / FPS)
    assert _wrapped(end - start) < 0.5  # R ≈ 0.01: at most 8·0.03 rad/s of drift, not ψ's jumps


def test_fixed_is_zero_and_unknown_modes_are_refused():
    assert PhaseReference("fixed").update(np.ones((8, 8), np.float32), 1 / FPS) == 0.0
    with pytest.raises(ValueError, match="reference must be one of"):
        PhaseReference("mean phase")


def test_5meo_coherent_is_drawn_white_whatever_its_absolute_phase():
    """The 5meo preset at its own settings, no audio, 48²: once coherent, the mono picture drawn
    relative to the reference is white; drawn in absolute phase it cycles through grey and black."""
    session = Session.from_preset("5meo", size=(48, 48), deterministic=True)
    painter = FramePainter((160, 90))
    packed = pack_rgb0(palette_lut("mono", lightness=50.0))
    no_audio = FeatureSnapshot(status="none")
    relative, absolute = [], []
    for frame in range(12 * FPS):
        state = session.advance(no_audio, 1 / FPS)
        if frame >= 8 * FPS and frame % 20 == 0:
            assert state.measures.order > 0.8, "5meo did not become coherent"
            for reference, out in ((state.reference, relative), (0.0, absolute)):
                painter.scaler.paint(state.theta, packed, painter.frame, reference=reference)
                out.append(np.median(painter.frame & 0xFF))  # the blue byte: grey level
    assert min(relative) > 200  # measured 249 in every sample (R 0.98)
    assert min(absolute) < 128  # measured 4..253: the same field in absolute phase goes black and white
    session.close()
