"""The flash limiter, measured on frames rendered through the real Display (SDL dummy driver).

The measure here is independent of the limiter's own (`devtools.flash_count`): every 2nd pixel,
float64 from the sRGB formula, per-pixel luminance and red trackers, WCAG's 0.10 swing / 0.80
darker side / saturated red, 25 % of any 10° field (a third of the frame each way).
"""

import numpy as np
import pygame
import pytest

from devtools.flash_count import FlashCounter
from visualizer.engine.sim import Field, FieldConfig
from visualizer.render.colour import build_lut
from visualizer.render.flash import FlashLimiter
from visualizer.window.display import Display

FPS = 60
SIZE = (192, 108)
CELLS = (18, 32)


@pytest.fixture(scope="module")
def display():
    d = Display(size=SIZE)
    d.set_palette(build_lut("mono"))  # θ = 0 white, θ = π black
    yield d
    pygame.quit()


def render(display, thetas, *, limit: bool) -> list[np.ndarray]:
    """The frames as shown (after ``present``), uint8 (w, h, 3)."""
    display.flash_limiter = FlashLimiter() if limit else None
    frames = []
    for i, theta in enumerate(thetas):
        display.draw_field(theta, time_s=i / FPS)
        display.present()
        frames.append(pygame.surfarray.array3d(display.canvas))
    return frames


def flashes(frames: list[np.ndarray]) -> int:
    counter = FlashCounter()
    for frame in frames:
        counter.add(frame)
    return counter.most_flashes_in_a_second(FPS)


def strobe(period_frames: int, seconds: float = 1.5) -> list[np.ndarray]:
    white, black = np.zeros(CELLS, np.float32), np.full(CELLS, np.pi, np.float32)
    return [white if (i // period_frames) % 2 == 0 else black for i in range(int(seconds * FPS))]


@pytest.mark.parametrize("period_frames", [1, 4])
def test_strobe_is_capped_at_three_flashes_per_second(display, period_frames):
    free = flashes(render(display, strobe(period_frames), limit=False))
    assert free >= 60 // (2 * period_frames) - 1  # the strobe really flashes: 30 or 7 per second
    limited = flashes(render(display, strobe(period_frames), limit=True))
    assert limited <= 3
    assert limited >= 2  # limited, not frozen: the allowed flashes still get through


def test_half_screen_counterphase_strobe_is_capped(display):
    # left half white while the right is black and vice versa: mean luminance never changes
    left = np.zeros(CELLS, np.float32)
    left[:, 16:] = np.pi
    thetas = [left if i % 2 == 0 else (left + np.pi) % (2 * np.pi) for i in range(90)]
    assert flashes(render(display, thetas, limit=False)) >= 20
    assert flashes(render(display, thetas, limit=True)) <= 3


def test_slow_fade_is_untouched(display):
    # white → black → white over 2 s: luminance swings fully but slowly
    phase = np.abs(np.sin(np.linspace(0, np.pi, 2 * FPS))) * np.pi
    thetas = [np.full(CELLS, p, np.float32) for p in phase]
    free = render(display, thetas, limit=False)
    limited = render(display, thetas, limit=True)
    assert display.flash_limiter.limited_frames == 0
    assert display.flash_limiter.kept_frames == 0  # no frame could be blended, so no output was copied
    assert all(np.array_equal(a, b) for a, b in zip(free, limited))


def test_a_moving_field_is_untouched(display):
    field = Field(FieldConfig(height=18, width=32, seed=3))
    display.set_palette(build_lut("vivid"))
    try:
        thetas = []
        for _ in range(FPS):
            field.step(dt=0.05, k=(20.0, 20.0, 10.0, 0.0), k_sw=0.0)
            thetas.append(field.theta.copy())
        render(display, thetas, limit=True)
        assert display.flash_limiter.limited_frames == 0
        assert display.flash_limiter.kept_frames == 0
    finally:
        display.set_palette(build_lut("mono"))


def test_a_strobe_whose_rises_take_several_frames_is_capped(display):
    # 6 flashes a second, each brightening over 4 frames and darkening over 1: no single frame swings far
    ramp = [np.pi * (1 - k / 4) for k in range(5)]
    thetas = [np.full(CELLS, ramp[i % 10] if i % 10 < 5 else np.pi, np.float32) for i in range(120)]
    assert flashes(render(display, thetas, limit=False)) >= 5
    assert flashes(render(display, thetas, limit=True)) <= 3


def test_a_staggered_strobe_is_capped(display):
    # each column flips at its own frame: never a quarter of the frame in one frame, 10 flashes a second
    columns = np.arange(CELLS[1])
    thetas = [np.broadcast_to(np.where(((i + columns % 6) // 3) % 2 == 0, 0.0, np.pi), CELLS).astype(np.float32)
              for i in range(120)]
    assert flashes(render(display, thetas, limit=False)) >= 8
    assert flashes(render(display, thetas, limit=True)) <= 3


def test_a_small_area_strobe_is_counted_in_its_own_10_degree_field(display):
    # a square a quarter of a 10° field wide and high flashing at 30 Hz: 1/36 of the frame
    thetas = []
    for i in range(90):
        theta = np.full(CELLS, np.pi, np.float32)
        theta[6:12, 11:21] = 0.0 if i % 2 == 0 else np.pi
        thetas.append(theta)
    assert flashes(render(display, thetas, limit=False)) >= 20
    assert flashes(render(display, thetas, limit=True)) <= 3


def test_a_red_flash_at_constant_luminance_is_capped(display):
    # saturated red against a grey of the same relative luminance (0.21): only the red rule sees it
    lut = np.zeros((256, 3), np.uint8)
    lut[:128] = (255, 0, 0)
    lut[128:] = (127, 127, 127)
    display.set_palette(lut)
    try:
        thetas = [np.full(CELLS, 0.0 if i % 2 == 0 else np.pi, np.float32) for i in range(90)]
        assert flashes(render(display, thetas, limit=False)) >= 20
        assert flashes(render(display, thetas, limit=True)) <= 3
    finally:
        display.set_palette(build_lut("mono"))


def test_what_is_drawn_over_the_field_is_limited_too(display):
    # a white box drawn after the field, before present, blinking at 30 Hz over half the frame
    display.flash_limiter = FlashLimiter()
    counter = FlashCounter()
    for i in range(90):
        display.draw_field(np.full(CELLS, np.pi, np.float32), time_s=i / FPS)
        if i % 2 == 0:
            display.canvas.fill((255, 255, 255), pygame.Rect(0, 0, SIZE[0] // 2, SIZE[1]))
        display.present()
        counter.add(pygame.surfarray.array3d(display.canvas))
    assert counter.most_flashes_in_a_second(FPS) <= 3
    assert display.flash_limiter.limited_frames > 0


def test_a_recording_copy_and_the_screen_are_each_limited(display):
    # a strobing field is copied for a recording, then a box blinks over it before present (the HUD)
    display.flash_limiter, display.copy_limiter = FlashLimiter(), FlashLimiter()
    copies, screen = FlashCounter(), FlashCounter()
    for i, theta in enumerate(strobe(1)):
        display.draw_field(theta, time_s=i / FPS)
        copy = display.limited_copy()
        if i % 3 == 0:
            display.canvas.fill((255, 0, 0), pygame.Rect(0, 0, SIZE[0] // 2, SIZE[1]))
        display.present()
        rgb = np.stack([(copy >> s) & 255 for s in display.canvas.get_shifts()[:3]], axis=-1).astype(np.uint8)
        copies.add(rgb.transpose(1, 0, 2))
        screen.add(pygame.surfarray.array3d(display.canvas))
    assert copies.most_flashes_in_a_second(FPS) <= 3 and screen.most_flashes_in_a_second(FPS) <= 3
    assert display.copy_limiter.limited_frames > 0 and display.flash_limiter.limited_frames > 0


def test_a_blend_is_the_linear_light_mix_of_the_two_frames():
    # every pair of 8-bit values (previous, new) in each channel, against the sRGB formulas in float64
    values = np.arange(256, dtype=np.uint32)
    previous = np.repeat(values, 256).reshape(256, 256)
    new = np.tile(values, 256).reshape(256, 256)
    shifts = (16, 8, 0)
    rows = new | (previous << 8) | (new << 16) | np.uint32(0xFF000000)  # G blends the other way round
    before = previous | (new << 8) | (previous << 16) | np.uint32(0xFF000000)
    limiter = FlashLimiter()
    limiter._reset(rows.shape)
    limiter._previous_rows[...] = before
    share = 0.3
    limiter._blend(rows, np.asarray(shifts, np.int64), share)

    def linear(v):
        v = v / 255.0
        return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)

    def encode(lin):
        return 255 * np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)

    for s, (q, p) in zip(shifts, ((previous, new), (new, previous), (previous, new))):
        expected = encode((1 - share) * linear(q) + share * linear(p))
        # 8-bit rounding (0.5) and the 4096-step encoding, whose steepest step (near black) is 12.92·255/4096
        assert np.abs(((rows >> s) & 255) - expected).max() <= 0.5 + 0.5 * 12.92 * 255 / 4096 + 1e-3
    assert np.all(rows >> 24 == 255)  # the alpha byte is the new frame's


def test_the_bisection_counts_each_cells_transitions_by_the_wcag_rules():
    # counts_with_events against the rules in float64: luminance swings of 0.10 against the trend
    # (darker side below 0.80) and a u'v' move of > 0.2 to or from a saturated red; rows 0-9 hold no
    # red at all (the branch-free pass alone), rows 10-19 some red cells beside non-red ones
    from visualizer.render.flash import LUMA, RED_FLOOR, XYZ_X, XYZ_Z, counts_with_events, reference_uv

    rng = np.random.default_rng(7)
    gh, gw = 20, 64
    rgb0 = rng.uniform(0.0, 1.0, (gh, gw, 3)).astype(np.float32)
    rgb1 = rng.uniform(0.0, 1.0, (gh, gw, 3)).astype(np.float32)
    ref_rgb = rng.uniform(0.0, 1.0, (gh, gw, 3)).astype(np.float32)
    for c in (rgb0, rgb1, ref_rgb):  # no red in rows 0-9: green at least as strong as red
        c[:10, :, 1] = np.maximum(c[:10, :, 0], c[:10, :, 1])
    rgb1[10:, ::3] = (0.9, 0.02, 0.03)  # saturated reds after the blend toward them
    ref_rgb[10:, 1::5] = (0.7, 0.01, 0.02)  # cells whose reference is a red
    luma = lambda c: c @ np.array(LUMA, np.float32)  # noqa: E731
    luma0, luma1 = luma(rgb0).astype(np.float32), luma(rgb1).astype(np.float32)
    extreme = rng.uniform(0.0, 1.0, (gh, gw)).astype(np.float32)
    trend = rng.integers(-1, 2, (gh, gw)).astype(np.int8)
    is_red = lambda c: (c[..., 0] >= RED_FLOOR) & (c[..., 0] >= 0.8 * c.sum(axis=-1))  # noqa: E731
    ref_red = is_red(ref_rgb.astype(np.float64))
    recent = rng.integers(0, 7, (gh, gw)).astype(np.int32)
    ref_uv = np.zeros((gh, gw, 2))
    reference_uv(ref_rgb, ref_uv)

    def uv(c):
        X, Z, Y = c @ np.array(XYZ_X), c @ np.array(XYZ_Z), c @ np.array(LUMA)
        d = X + 15 * Y + 3 * Z
        safe = np.where(d > 1e-9, d, 1.0)
        return np.where(d > 1e-9, 4 * X / safe, 0.0), np.where(d > 1e-9, 9 * Y / safe, 0.0)

    for share in (0.0, 0.37, 1.0):
        out = np.zeros((gh, gw), np.int32)
        counts_with_events(luma0, rgb0, luma1, rgb1, share, extreme, trend, ref_uv, ref_red, np.float32(0.1),
                           np.float32(0.8), np.float32(0.8), np.float32(0.2), recent, out)
        c = rgb0.astype(np.float64) + share * (rgb1.astype(np.float64) - rgb0)
        v, e = luma(c), extreme.astype(np.float64)
        up = (trend <= 0) & (v - e >= 0.1) & (e < 0.8)
        down = (trend >= 0) & (e - v >= 0.1) & (v < 0.8)
        (u, w), (u0, w0) = uv(c), uv(ref_rgb.astype(np.float64))
        red_turn = (is_red(c) | ref_red) & ((u - u0) ** 2 + (w - w0) ** 2 > 0.04)
        expected = recent + (up | down | red_turn)
        assert red_turn[10:].any() and not (is_red(c[:10]) | ref_red[:10]).any()
        assert np.array_equal(out, expected), f"share {share}: {np.argwhere(out != expected)[:5]}"
