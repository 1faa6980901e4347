"""The flash limiter, measured on frames rendered through the real Display (SDL dummy driver).

The measure here is independent of the limiter's own: every 2nd pixel, float64 luminance from
the sRGB formula, a per-pixel extreme tracker, WCAG's 0.10 swing / 0.80 darker side / 25 % area.
"""

import numpy as np
import pygame
import pytest

from visualizer.engine.sim import Field, FieldConfig
from visualizer.render.colour import build_lut
from visualizer.render.flash import FlashLimiter
from visualizer.window.display import Display

FPS = 60
SIZE = (192, 108)


def relative_luminance(rgb_bytes: np.ndarray) -> np.ndarray:
    v = rgb_bytes.astype(np.float64) / 255.0
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def frame_transitions(frames: list[np.ndarray]) -> np.ndarray:
    """Transitions per frame: a same-direction luminance swing over ≥ 25 % of the pixels (0..2)."""
    extreme, trend = frames[0].copy(), np.zeros(frames[0].shape, int)
    events = [0]
    for luma in frames[1:]:
        up = (trend <= 0) & (luma - extreme >= 0.1) & (extreme < 0.8)
        down = (trend >= 0) & (extreme - luma >= 0.1) & (luma < 0.8)
        onward = ((trend > 0) & (luma > extreme)) | ((trend < 0) & (luma < extreme))
        extreme = np.where(up | down | onward, luma, extreme)
        trend = np.where(up, 1, np.where(down, -1, trend))
        events.append(int(up.mean() >= 0.25) + int(down.mean() >= 0.25))
    return np.array(events)


def most_flashes_in_a_second(events: np.ndarray) -> int:
    per_window = np.convolve(events, np.ones(FPS, int), mode="valid")
    return int(per_window.max()) // 2


@pytest.fixture(scope="module")
def display():
    d = Display(size=SIZE)
    d.set_palette(build_lut("mono"))  # θ = 0 white, θ = π black
    yield d
    pygame.quit()


def render(display, thetas, *, limit: bool) -> list[np.ndarray]:
    display.flash_limiter = FlashLimiter() if limit else None
    frames = []
    for i, theta in enumerate(thetas):
        display.draw_field(theta, time_s=i / FPS)
        frames.append(relative_luminance(pygame.surfarray.array3d(display.canvas)[::2, ::2]))
    return frames


def strobe(period_frames: int, seconds: float = 1.5) -> list[np.ndarray]:
    white, black = np.zeros((18, 32), np.float32), np.full((18, 32), np.pi, np.float32)
    return [white if (i // period_frames) % 2 == 0 else black for i in range(int(seconds * FPS))]


@pytest.mark.parametrize("period_frames", [1, 4])
def test_strobe_is_capped_at_three_flashes_per_second(display, period_frames):
    free = most_flashes_in_a_second(frame_transitions(render(display, strobe(period_frames), limit=False)))
    assert free >= 60 // (2 * period_frames) - 1  # the strobe really flashes: 30 or 7 per second
    limited = most_flashes_in_a_second(frame_transitions(render(display, strobe(period_frames), limit=True)))
    assert limited <= 3
    assert limited >= 2  # limited, not frozen: the allowed flashes still get through


def test_half_screen_counterphase_strobe_is_capped(display):
    # left half white while the right is black and vice versa: mean luminance never changes
    left = np.zeros((18, 32), np.float32)
    left[:, 16:] = np.pi
    thetas = [left if i % 2 == 0 else (left + np.pi) % (2 * np.pi) for i in range(90)]
    assert most_flashes_in_a_second(frame_transitions(render(display, thetas, limit=False))) >= 20
    assert most_flashes_in_a_second(frame_transitions(render(display, thetas, limit=True))) <= 3


def test_slow_fade_is_untouched(display):
    # white → black → white over 2 s: luminance swings fully but slowly
    phase = np.abs(np.sin(np.linspace(0, np.pi, 2 * FPS))) * np.pi
    thetas = [np.full((18, 32), p, np.float32) for p in phase]
    free = render(display, thetas, limit=False)
    limited = render(display, thetas, limit=True)
    assert display.flash_limiter.limited_frames == 0
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
    finally:
        display.set_palette(build_lut("mono"))
