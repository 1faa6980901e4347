"""The response figures (visualizer/offline/response.py) on synthetic pictures with known answers."""

import importlib.util
import pathlib

import numpy as np
import pytest

try:
    from visualizer.offline import response as R
except ImportError:  # the package's __init__.py may not be there yet: load the file itself
    _path = pathlib.Path(__file__).resolve().parents[1] / "visualizer" / "offline" / "response.py"
    _spec = importlib.util.spec_from_file_location("visualizer_offline_response", _path)
    R = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(R)

FPS = 60


def grey(levels, h=9, w=16) -> np.ndarray:
    """Frames (T, h, w, 3) uint8, each one uniform grey at the given level."""
    levels = np.asarray(levels, dtype=np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (len(levels), h, w, 3)).copy()


def test_frame_change_is_mean_absolute_rgb_difference():
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)
    change = R.frame_change(frames)
    assert change.shape == (5,) and change.dtype == np.float64
    assert change[0] == 0.0
    for t in range(1, 5):
        want = np.abs(frames[t].astype(float) - frames[t - 1].astype(float)).mean()
        assert change[t] == pytest.approx(want, abs=1e-12)
    # no uint8 wrap-around: 0 -> 255 is a change of 255
    assert R.frame_change(grey([0, 255, 0]))[1:].tolist() == [255.0, 255.0]


def test_a_10_grey_level_step_on_every_beat_gives_the_exact_beat_response():
    n = 10 * FPS
    beat_frames = np.arange(30, n - 10, 27)     # a beat every 0.45 s from 0.5 s
    levels = np.full(n, 100)
    for k, f in enumerate(beat_frames):         # the picture steps by 10 levels on each beat
        levels[f:] = 100 + 10 * ((k + 1) % 2)
    frames = grey(levels)
    change = R.frame_change(frames)
    assert set(np.round(change[beat_frames], 9)) == {10.0}
    beats_s = beat_frames / FPS
    counted = beat_frames[beat_frames > FPS]    # beats after the first second
    # each beat's window [b, b + 0.15 s] holds frames b..b+9 (10 frames), one of them the step
    num = 10.0 * len(counted) / (10 * len(counted))
    den = 10.0 * len(counted) / (n - FPS)       # every beat after 1 s; frames 60..n-1
    got = R.beat_response(change, FPS, beats_s)
    assert got == pytest.approx(num / den, rel=1e-12)
    assert got == pytest.approx((n - FPS) / (10 * len(counted)), rel=1e-12)
    # the same picture changes shifted by a third of the beat gap: no response in the window
    late = R.beat_response(change, FPS, beats_s + 0.15 + 1 / FPS)
    assert late == 0.0


def test_beat_response_is_one_when_the_picture_ignores_the_beats():
    change = np.full(20 * FPS, 3.0)
    assert R.beat_response(change, FPS, np.arange(0.5, 19.5, 0.5)) == pytest.approx(1.0)
    assert np.isnan(R.beat_response(change, FPS, []))
    assert np.isnan(R.beat_response(np.zeros(200), FPS, [2.0]))


def test_change_that_copies_the_loudness_with_a_10_frame_lag_gives_r_one():
    rng = np.random.default_rng(2)
    n = 30 * FPS
    rms = np.convolve(rng.random(n + 200), np.ones(20) / 20, mode="same")[:n]  # wandering level
    change = np.zeros(n)
    change[10:] = 3.0 * rms[:-10] + 1.0          # the picture follows 10 frames (167 ms) later
    r, lag = R.loudness_r(change, rms, FPS, return_lag=True)
    assert r == pytest.approx(1.0, abs=1e-6)
    assert lag == pytest.approx(10 / FPS)
    # a picture that leads the audio is outside the 0..0.5 s lags: well below 1
    lead = np.zeros(n)
    lead[:-45] = rms[45:]
    assert R.loudness_r(lead, rms, FPS) < 0.9
    # unrelated, equally smooth wandering: near zero (2 minutes, so chance r stays small)
    m = 120 * FPS
    a, b = (np.convolve(rng.random(m), np.ones(20) / 20, mode="same") for _ in range(2))
    assert abs(R.loudness_r(a, b, FPS)) < 0.3


def test_two_songs_r_is_one_for_the_same_picture_and_near_zero_for_independent_ones():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (30 * FPS, 18, 32, 3), dtype=np.uint8)
    assert R.two_songs_r(a, a.copy(), FPS) == pytest.approx(1.0)
    b = rng.integers(0, 256, a.shape, dtype=np.uint8)
    assert abs(R.two_songs_r(a, b, FPS)) < 0.05
    assert R.two_songs_r(a, 255 - a, FPS) == pytest.approx(-1.0)
    assert np.isnan(R.two_songs_r(a[:60], b[:60], FPS))   # no requested moment inside 1 s


def test_rms_per_frame():
    sr = 48000
    t = np.arange(2 * sr) / sr
    x = np.where(t < 1.0, 0.5, 0.0) * np.sign(np.sin(2 * np.pi * 100 * t + 0.1))  # ±0.5 square
    stereo = np.stack([x, x], axis=1)
    rms = R.rms_per_frame(stereo, sr, FPS, 3 * FPS)
    assert rms.shape == (180,)
    assert np.allclose(rms[:FPS], 0.5)
    assert np.allclose(rms[FPS:], 0.0)


def test_a_5_hz_full_screen_flicker_counts_5_flashes_per_second():
    n = 4 * FPS
    levels = np.where((np.arange(n) // 6) % 2 == 0, 0, 255)   # 6 frames black, 6 white
    flashes, worst = R.large_flashes_per_s(grey(levels), FPS)
    assert worst == 5
    assert flashes == 20 - 1  # 39 transitions in 4 s (the first frame is no transition)


def test_a_slow_fade_counts_no_flash():
    n = 10 * FPS
    frames = grey(np.linspace(0, 255, n).round())
    assert R.large_flashes_per_s(frames, FPS) == (0, 0)
    back = grey(np.concatenate([np.linspace(0, 255, n // 2), np.linspace(255, 0, n // 2)]).round())
    assert R.large_flashes_per_s(back, FPS)[1] == 0   # up, then down 5 s later: not within a second


def test_small_or_bright_flicker_is_not_a_large_flash():
    n = 2 * FPS
    on = (np.arange(n) // 3) % 2 == 0                         # 10 Hz
    frames = np.zeros((n, 20, 20, 3), np.uint8)
    frames[on, :8, :8] = 255                                  # 16 % of the picture
    assert R.large_flashes_per_s(frames, FPS) == (0, 0)
    bright = grey(np.where(on, 255, 235))                     # darker side above 0.80
    assert R.relative_luminance(np.array([235, 235, 235], np.uint8)) > 0.8
    assert R.large_flashes_per_s(bright, FPS) == (0, 0)
    half = np.zeros((n, 20, 20, 3), np.uint8)                 # counter-phase halves: still flashes
    half[on, :, :10] = 255
    half[~on, :, 10:] = 255
    assert R.large_flashes_per_s(half, FPS)[1] >= 10


def test_read_beats(tmp_path):
    p = tmp_path / "x.beats"
    p.write_text("# comment\n1.5\t1\n2.0\t2\n\n2.5\n")
    assert R.read_beats(str(p)).tolist() == [1.5, 2.0, 2.5]
    j = tmp_path / "x.json"
    j.write_text('{"beats": [0.5, 1.0]}')
    assert R.read_beats(str(j)).tolist() == [0.5, 1.0]


def test_pink_noise_is_pink_and_reproducible():
    x = R.pink_noise(4.0, 44100, seed=0)
    assert np.array_equal(x, R.pink_noise(4.0, 44100, seed=0))
    assert np.sqrt(np.mean(x.astype(float) ** 2)) == pytest.approx(0.1, rel=0.02)
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / 44100)
    low = p[(f > 100) & (f < 200)].mean()
    high = p[(f > 1000) & (f < 2000)].mean()
    assert 5 < low / high < 20   # 1/f: a decade up is 10x less power


def test_the_control_is_rendered_once_per_cache_and_reused_pixel_for_pixel(tmp_path, monkeypatch):
    """measure(cache_dir=...) keeps the pink-noise control's frames: the second track's control is the
    first one's, read back exactly, without a second render (in process; the MP4 path as before)."""
    rendered = []

    def fake_render(audio, *, preset, seconds, size, fps, seed, out=None, via_video=False):
        rendered.append(audio)
        return np.random.default_rng(len(rendered)).integers(0, 256, (4, size[1], size[0], 3), dtype=np.uint8)

    monkeypatch.setattr(R, "render_frames", fake_render)
    args = dict(preset="nn-dmt", seconds=3.0, size=(16, 10), fps=FPS, seed=0, cache_dir=str(tmp_path))
    first = R._control_frames(**args)
    again = R._control_frames(**args)
    assert len(rendered) == 1 and np.array_equal(first, again)
    R._control_frames(**{**args, "seed": 1})  # another seed is another control
    assert len(rendered) == 2
