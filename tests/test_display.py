"""Scaling the field to the window (real Display, SDL dummy driver), the layout and the HUD.

Colour indices are read straight off the canvas: the test palette encodes LUT index i as the
pixel's red and green bytes, so every pixel can be compared with an independent float64 model
of the scaling (bilinear interpolation of e^{iθ}, then the angle).
"""

import dataclasses
import math

import numpy as np
import pygame
import pytest

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import Session
from visualizer.render.layout import grid_for_screen
from visualizer.window.display import Display
from visualizer.window.hud import (
    PANEL_WIDTH,
    REFRESH_S,
    ROW_HEIGHT,
    Hud,
    HudFader,
    HudView,
    SliderView,
)
from visualizer.window.hud_model import HudModel

N = 1024


@pytest.fixture(scope="module")
def display():
    d = Display(size=(320, 180), flash_limit=None)
    d.set_palette(np.stack([np.arange(N) & 255, np.arange(N) >> 8, np.full(N, 7)], axis=1).astype(np.uint8))
    yield d
    pygame.quit()


def drawn_indices(display) -> np.ndarray:
    """LUT index of every pixel, (h, w)."""
    rgb = pygame.surfarray.array3d(display.canvas).transpose(1, 0, 2).astype(int)
    assert np.all(rgb[..., 2] == 7), "a pixel was not drawn by the field"
    return rgb[..., 0] + 256 * rgb[..., 1]


def reference_indices(theta: np.ndarray, out_hw: tuple[int, int], *, staggered=False, block=1) -> np.ndarray:
    """float64 model: pixel centres → clamped cell coordinates, bilinear cos/sin, atan2 → index."""
    theta = theta.astype(np.float64)
    if staggered:
        y, x = np.indices(theta.shape)
        theta = theta + np.pi * ((x + y) % 2)
    (h, w), (fh, fw) = out_hw, theta.shape
    sy, sx = -(-h // block), -(-w // block)
    v = np.clip((np.arange(sy) + 0.5) * fh / sy - 0.5, 0, fh - 1)
    u = np.clip((np.arange(sx) + 0.5) * fw / sx - 0.5, 0, fw - 1)
    y0, x0 = np.minimum(v.astype(int), fh - 1), np.minimum(u.astype(int), fw - 1)
    y1, x1 = np.minimum(y0 + 1, fh - 1), np.minimum(x0 + 1, fw - 1)
    wy, wx = (v - y0)[:, None], (u - x0)[None, :]

    def bilinear(f):
        return ((f[y0][:, x0] * (1 - wx) + f[y0][:, x1] * wx) * (1 - wy)
                + (f[y1][:, x0] * (1 - wx) + f[y1][:, x1] * wx) * wy)

    turns = np.mod(np.arctan2(bilinear(np.sin(theta)), bilinear(np.cos(theta))) / (2 * np.pi), 1.0)
    index = np.floor(turns * N).astype(int) % N
    return np.repeat(np.repeat(index, block, axis=0), block, axis=1)[:h, :w]


def index_distance(a, b):
    d = np.abs(a - b) % N
    return np.minimum(d, N - d)


@pytest.mark.parametrize("shape", [(18, 32), (57, 100), (7, 9)])
def test_field_fills_the_window_and_matches_the_bilinear_model(display, shape):
    theta = np.random.default_rng(1).uniform(0, 2 * np.pi, shape).astype(np.float32)
    display.draw_field(theta)
    drawn = drawn_indices(display)  # asserts every pixel, edge to edge, came from the field
    distance = index_distance(drawn, reference_indices(theta, drawn.shape))
    # float32 vs float64 near an index boundary, or where the interpolated vector nearly vanishes
    assert (distance == 0).mean() > 0.99
    assert np.percentile(distance, 99.9) <= 1


def test_wrap_around_leaves_no_seam(display):
    # cells alternate between just below 2π and just above 0: interpolating θ itself would paint
    # π (the opposite colour) between them; interpolating e^{iθ} stays within 0.02 rad of 0
    theta = np.where(np.indices((18, 32)).sum(axis=0) % 2 == 0, 2 * np.pi - 0.02, 0.02).astype(np.float32)
    display.draw_field(theta)
    assert index_distance(drawn_indices(display), 0).max() <= math.ceil(0.02 / (2 * np.pi) * N)


def test_plane_wave_has_no_moire(display):
    # 32 cells over 320 px would be 10 px per cell; use 57 cells (5.6 px, the uneven case)
    x = np.arange(57)
    theta = np.tile((2 * np.pi * 3 * x / 57) % (2 * np.pi), (18, 1)).astype(np.float32)
    display.draw_field(theta)
    steps = np.diff(np.unwrap(drawn_indices(display)[90] * (2 * np.pi / N))) * (N / (2 * np.pi))
    interior = steps[6:-6]  # the outermost half cells are clamped flat
    ideal = 3 * N / 320  # index units per pixel of a smooth ramp
    # bilinear in e^{iθ} is not linear in θ, but close for 0.33 rad per cell: no steps, no pauses
    assert interior.min() > 0.8 * ideal and interior.max() < 1.2 * ideal


def test_antiphase_view_turns_a_checkerboard_into_one_colour(display):
    y, x = np.indices((18, 32))
    theta = ((1.0 + np.pi * ((x + y) % 2)) % (2 * np.pi)).astype(np.float32)
    display.draw_field(theta, view="antiphase")
    drawn = drawn_indices(display)
    assert index_distance(drawn, int(1.0 / (2 * np.pi) * N)).max() <= 1
    display.draw_field(theta, view="phase")  # the same field in the phase view: two colours, crisp cells
    _, counts = np.unique(drawn_indices(display), return_counts=True)
    top_two = np.sort(counts)[-2:].sum() / counts.sum()
    assert top_two > 0.6


def test_antiphase_view_matches_the_model_on_a_random_field(display):
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, (18, 32)).astype(np.float32)
    display.draw_field(theta, view="antiphase")
    distance = index_distance(drawn_indices(display), reference_indices(theta, (180, 320), staggered=True))
    assert (distance == 0).mean() > 0.99


def test_domains_view_draws_each_half_as_the_view_that_suits_it(display):
    # a gradient, its left half in checkerboard order: the phase view shows that half as cell-sized
    # static, the antiphase view the right half; "domains" matches each view's model on its own half
    y, x = np.indices((18, 32))
    gradient = 0.15 * x
    theta = (gradient + np.pi * ((x < 16) & ((x + y) % 2 == 1))) % (2 * np.pi)
    display.draw_field(theta.astype(np.float32), view="domains")
    drawn = drawn_indices(display)  # 10 px per cell
    left, right = np.s_[:, 20:130], np.s_[:, 190:300]  # two cells clear of the seam and the wrap
    as_antiphase = reference_indices(gradient, (180, 320))  # the checkerboard half turned back: the gradient
    assert (index_distance(drawn[left], as_antiphase[left]) <= 1).mean() > 0.99
    assert (index_distance(drawn[right], reference_indices(theta, (180, 320))[right]) <= 1).mean() > 0.99


def test_block_sampling_for_large_outputs(display):
    theta = np.random.default_rng(3).uniform(0, 2 * np.pi, (18, 32)).astype(np.float32)
    display.block = 2
    try:
        display.draw_field(theta)
        drawn = drawn_indices(display)
    finally:
        display.block = None
    assert np.array_equal(drawn[0::2, 0::2], drawn[1::2, 1::2])  # uniform 2×2 squares
    distance = index_distance(drawn, reference_indices(theta, drawn.shape, block=2))
    assert (distance == 0).mean() > 0.99


def test_unknown_view_and_bad_palette_are_rejected(display):
    with pytest.raises(ValueError, match="view must be one of"):
        display.draw_field(np.zeros((18, 32), np.float32), view="sideways")
    with pytest.raises(ValueError, match="power of two"):
        display.set_palette(np.zeros((1000, 3), np.uint8))


@pytest.mark.parametrize("screen", [(1920, 1080), (1280, 720), (1080, 1920), (3840, 2160), (1024, 768), (2560, 1080)])
@pytest.mark.parametrize("cells", [256 * 256, 512 * 512, 10_000])
def test_grid_follows_the_screen_aspect(screen, cells):
    height, width = grid_for_screen(screen, cells)
    assert height % 2 == 0 and width % 2 == 0 and min(height, width) >= 10
    assert abs(height * width / cells - 1) < 0.05
    # cells are square on screen to within one cell per side
    assert abs(width / height - screen[0] / screen[1]) <= (screen[0] / screen[1]) * (1 / height + 1 / width) * 1.5


def test_grid_keeps_a_minimum_side():
    assert grid_for_screen((5000, 100), 400) == (10, 500)  # square cells win over the count
    with pytest.raises(ValueError):
        grid_for_screen((0, 100), 400)


def test_hud_fader_holds_then_fades_linearly():
    fader = HudFader(idle_s=4.0, fade_s=2.0, now_s=10.0)
    assert [fader.opacity(t) for t in (10.0, 14.0, 15.0, 16.0, 30.0)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    fader.touch(30.0)
    assert fader.opacity(30.5) == 1.0


def test_hud_is_compact_translucent_and_absent_at_zero_opacity():
    canvas = pygame.Surface((1280, 720), 0, 32)
    canvas.fill((200, 40, 90))
    hud = Hud()
    view = HudView(title="nn-dmt", sliders=tuple(SliderView(f"k{i}", 1.0, 2.0, -20, 20) for i in range(10)),
                   selected=0, lines=("60.0 fps", "audio: ok", "-20 dBFS"),
                   meters=(("level", 0.5), ("bass", 0.3), ("mid", 0.2), ("high", 0.1), ("beat", 0.9)))
    before = pygame.surfarray.array3d(canvas)
    hud.draw(canvas, view, opacity=0.0)
    assert np.array_equal(pygame.surfarray.array3d(canvas), before)
    hud.draw(canvas, view, opacity=1.0)
    changed = np.any(pygame.surfarray.array3d(canvas) != before, axis=2)
    assert changed.mean() < 0.10  # under a tenth of a 1280×720 window (the old panel: 17 %)
    # translucent: the panel's background lets the field through (darkened, not black)
    corner = pygame.surfarray.array3d(canvas)[2, 2]
    assert 0 < corner[0] < 200 and corner[0] > 60
    canvas.fill((200, 40, 90))
    hud.draw(canvas, view, opacity=0.5)
    half = pygame.surfarray.array3d(canvas)[2, 2]
    assert corner[0] < half[0] < 200


def test_hud_redraws_live_values_at_most_every_refresh_and_what_the_user_changes_at_once():
    canvas = pygame.Surface((640, 360), 0, 32)
    hud = Hud()

    def view(live: float, base: float = 1.0) -> HudView:
        return HudView(title="nn-dmt", sliders=(SliderView("k1", base, live, -20, 20),), selected=0,
                       lines=(f"R = {live:.3f}",))

    def panel(v: HudView, now_s: float | None) -> np.ndarray:
        canvas.fill((200, 40, 90))
        hud.draw(canvas, v, now_s=now_s)
        return pygame.surfarray.array3d(canvas)[:PANEL_WIDTH, :3 * ROW_HEIGHT].copy()

    first = panel(view(2.0), 10.0)
    assert np.array_equal(panel(view(9.0), 10.0 + 0.5 * REFRESH_S), first)  # live values wait
    live = panel(view(9.0), 10.0 + REFRESH_S)
    assert not np.array_equal(live, first)  # ... until REFRESH_S has passed
    moved = panel(view(9.0, base=5.0), 10.0 + 1.25 * REFRESH_S)
    assert not np.array_equal(moved, live)  # the user's change: at once
    beat = dataclasses.replace(view(9.0, base=5.0), beat_flash=1.0)
    assert not np.array_equal(panel(beat, 10.0 + 1.5 * REFRESH_S), moved)  # the beat dot: at once
    assert np.array_equal(panel(view(2.0), None), first)  # without a clock: every call


def test_measures_line_shows_the_frequency_spread_the_last_cooling_left():
    session = Session.from_preset("nn-dmt", size=(24, 24), deterministic=True)
    try:
        quiet = FeatureSnapshot(status="silence")
        session.annealer.heat()
        while session.annealer.phase != "cold":
            state = session.advance(quiet, 1 / 60)
        line = next(line for line in HudModel().view(state, quiet, selected=0, paused=False, injection_mode="neutral",
                                                       status="", measures=True).lines if "ω spread" in line)
        assert f"ω spread ×{session.annealer.disorder:.2f}" in line and session.annealer.disorder < 0.9
        assert session.field.frequency_spread_share == pytest.approx(session.annealer.disorder, abs=1e-3)
    finally:
        session.close()
