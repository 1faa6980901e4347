"""What the viewer sees: how a rendered picture responds to the music.

Pure numpy functions over frames and audio, plus one runner (:func:`measure`) that renders a song
(and a pink-noise control of the same length) as ``visualizer render`` does — in process, the
render's own pixels, or through an encoded MP4 with ``--via-video`` — and measures both.

Figures:

* beat response — mean picture change in the 150 ms after each beat ÷ mean change overall
  (1 = the beats are invisible; the control's figure at the song's beat times is the chance level);
* loudness r — largest Pearson r between the picture change and the audio RMS (both smoothed over
  0.5 s), the picture lagging the audio by 0–0.5 s;
* two-songs r — how alike two songs' pictures are at the same moments (song vs control);
* large flashes per second — WCAG 2.3.1 general flashes, the worst 1 s window.

Units: frames are uint8 RGB (T, H, W, 3); change is in grey levels (0–255) per channel and pixel;
times in seconds; fps in frames per second.

Command line (wired as ``visualizer response``)::

    response SONG --preset P [--beats FILE] [--seconds S] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from visualizer.engine.audio.offline import analyse_file
from visualizer.engine.presets import PresetError, load_preset
from visualizer.offline.render import open_audio, painted_frames
from visualizer.offline.scoring import read_beats as read_annotations

__all__ = ["frame_change", "beat_response", "loudness_r", "two_songs_r", "rms_per_frame",
           "relative_luminance", "large_flashes_per_s", "pink_noise", "read_beats", "render_frames",
           "measure", "main"]

FLASH_DELTA = 0.10        # WCAG: opposing changes of ≥ 10 % of the maximum relative luminance
FLASH_DARK_BELOW = 0.80   # ... where the darker of the two is below 0.80
FLASH_AREA = 0.25         # share of the picture standing in for the 10° visual field


# ------------------------------------------------------------------------------------------------
# Pure functions
# ------------------------------------------------------------------------------------------------

def frame_change(frames: np.ndarray) -> np.ndarray:
    """Per-frame picture change.

    frames: uint8 (T, H, W, 3). Returns change (T,) float64 in grey levels:
    change[t] = mean over pixels and channels of |RGB(t) − RGB(t−1)|, change[0] = 0."""
    frames = np.asarray(frames)
    t = len(frames)
    change = np.zeros(t, dtype=np.float64)
    for i in range(1, t):
        d = frames[i].astype(np.int16) - frames[i - 1].astype(np.int16)
        change[i] = np.abs(d).mean(dtype=np.float64)
    return change


def _frames_in(t0_s: float, t1_s: float, fps: float, n: int) -> np.ndarray:
    """Indices of frames whose time i/fps lies in [t0_s, t1_s] (within 1e-9 frames), clipped to n."""
    lo = int(np.ceil(t0_s * fps - 1e-9))
    hi = int(np.floor(min(t1_s * fps, n) + 1e-9))
    return np.arange(max(lo, 0), min(hi, n - 1) + 1)


def beat_response(change: np.ndarray, fps: float, beats_s, *, window_s: float = 0.15,
                  skip_s: float = 1.0) -> float:
    """Mean change in the window after each beat ÷ mean change overall.

    change: (T,) from :func:`frame_change`, frame i at time i/fps s. beats_s: beat times (s).
    Numerator: mean change over the frames in [b, b + window_s] of every beat b > skip_s (pooled,
    each beat's frames counted once per beat); denominator: mean change over all frames after
    skip_s. 1 = no response to the beats. NaN without beats or without change."""
    change = np.asarray(change, dtype=np.float64)
    n = len(change)
    after = change[_frames_in(skip_s, np.inf, fps, n)] if n else change
    idx = [_frames_in(b, b + window_s, fps, n) for b in np.asarray(beats_s, float)
           if b > skip_s and b * fps <= n - 1 + 1e-9]
    idx = [i for i in idx if len(i)]
    base = after.mean() if len(after) else 0.0
    if not idx or base <= 0:
        return float("nan")
    return float(change[np.concatenate(idx)].mean() / base)


def _box(x: np.ndarray, n: int) -> np.ndarray:
    """Moving average over n samples, 'valid' part only (len(x) − n + 1 values)."""
    if n <= 1:
        return np.asarray(x, float)
    c = np.cumsum(np.concatenate([[0.0], np.asarray(x, float)]))
    return (c[n:] - c[:-n]) / n


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, float).ravel()
    b = np.asarray(b, float).ravel()
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else float("nan")


def loudness_r(change: np.ndarray, rms: np.ndarray, fps: float, *, smooth_s: float = 0.5,
               max_lag_s: float = 0.5, return_lag: bool = False):
    """Largest Pearson r between picture change and audio loudness, the picture lagging.

    change, rms: (T,) per frame (rms from :func:`rms_per_frame`). Both are smoothed with a box of
    smooth_s seconds; r is taken at every lag 0..max_lag_s (change[t + lag] against rms[t]) and the
    largest returned (with the lag in seconds if return_lag). NaN if either is constant."""
    n = min(len(change), len(rms))
    box = max(int(round(smooth_s * fps)), 1)
    c = _box(np.asarray(change, float)[:n], box)
    r = _box(np.asarray(rms, float)[:n], box)
    best, best_lag = float("nan"), 0.0
    for lag in range(0, int(round(max_lag_s * fps)) + 1):
        if len(c) - lag < 3:
            break
        v = _pearson(c[lag:], r[: len(r) - lag])
        if np.isfinite(v) and not (v <= best):
            best, best_lag = v, lag / fps
    return (best, best_lag) if return_lag else best


def two_songs_r(frames_a: np.ndarray, frames_b: np.ndarray, fps: float,
                times_s=(12, 20, 28)) -> float:
    """Mean Pearson r between two renders' RGB frames at the same moments.

    frames_a, frames_b: uint8 (T, H, W, 3) of the same picture size; times_s: moments (s), the
    frame round(t·fps) of each (moments past either end are skipped). 1 = the same picture; ≈ 0 =
    unrelated. NaN if no moment is usable."""
    rs = []
    for t in times_s:
        i = int(round(t * fps))
        if i >= len(frames_a) or i >= len(frames_b):
            continue
        rs.append(_pearson(frames_a[i], frames_b[i]))
    rs = [r for r in rs if np.isfinite(r)]
    return float(np.mean(rs)) if rs else float("nan")


def rms_per_frame(samples: np.ndarray, sr: int, fps: float, n_frames: int) -> np.ndarray:
    """Audio RMS over each video frame's span.

    samples: (N,) or (N, C) float audio (channels averaged to mono); sr in Hz. Frame t spans
    samples [round(t·sr/fps), round((t+1)·sr/fps)). Returns (n_frames,) float64; 0 past the end."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    edges = np.round(np.arange(n_frames + 1) * (sr / fps)).astype(np.int64)
    edges = np.clip(edges, 0, len(x))
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    counts = np.diff(edges)
    sums = c[edges[1:]] - c[edges[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(counts > 0, np.sqrt(np.maximum(sums, 0.0) / np.maximum(counts, 1)), 0.0)
    return out


def relative_luminance(frames: np.ndarray) -> np.ndarray:
    """WCAG relative luminance (0–1) of sRGB uint8 frames (..., 3) → (...,) float32."""
    c = np.asarray(frames, dtype=np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return (lin @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)).astype(np.float32)


def large_flashes_per_s(frames: np.ndarray, fps: float) -> tuple[int, int]:
    """Large luminance flashes (WCAG 2.3.1 general flash), in total and in the worst 1 s window.

    frames: uint8 (T, H, W, 3). Returns (flashes, max_flashes_in_any_1_s).

    Per pixel, a transition is a change in relative luminance of ≥ 0.10 (10 % of the maximum)
    away from the pixel's last extreme, opposite in direction to its previous transition, where
    the darker end is below 0.80; the extreme follows the luminance while it keeps going the same
    way (so a slow fade is one transition, not many). A frame counts one picture-wide transition
    for each direction (up, down) in which ≥ 25 % of the pixels transition in that frame (a
    stand-in for the 10° area; two halves flashing in counter-phase count twice). A flash is a pair
    of opposing transitions: flashes = transitions // 2; the worst window is the most transitions
    in any fps consecutive frames, // 2. (The same measure as tests/test_flash.py.)"""
    frames = np.asarray(frames)
    t_n = len(frames)
    if t_n < 2:
        return 0, 0
    extreme = relative_luminance(frames[0]).ravel()
    trend = np.zeros(extreme.size, dtype=np.int8)  # +1 last transition up, −1 down, 0 none yet
    events = np.zeros(t_n, dtype=np.int64)
    for t in range(1, t_n):
        lum = relative_luminance(frames[t]).ravel()
        up = (trend <= 0) & (lum - extreme >= FLASH_DELTA) & (extreme < FLASH_DARK_BELOW)
        down = (trend >= 0) & (extreme - lum >= FLASH_DELTA) & (lum < FLASH_DARK_BELOW)
        onward = ((trend > 0) & (lum > extreme)) | ((trend < 0) & (lum < extreme))
        extreme = np.where(up | down | onward, lum, extreme)
        trend = np.where(up, 1, np.where(down, -1, trend)).astype(np.int8)
        events[t] = int(up.mean() >= FLASH_AREA) + int(down.mean() >= FLASH_AREA)
    total = int(events.sum())
    win = min(max(int(round(fps)), 1), t_n)
    c = np.concatenate([[0], np.cumsum(events)])
    return total // 2, int((c[win:] - c[:-win]).max()) // 2


def pink_noise(seconds: float, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """Pink (1/f power) noise, mono float32 (N,), RMS 0.1 (−20 dBFS), from numpy's generator."""
    n = int(round(seconds * sr))
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec[0] = 0.0
    spec[1:] /= np.sqrt(f[1:])
    x = np.fft.irfft(spec, n)
    x *= 0.1 / np.sqrt(np.mean(x ** 2))
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def read_beats(path: str) -> np.ndarray:
    """Beat times (s) from an annotation file (``offline.scoring.read_beats``: ``time`` or
    ``time<TAB>beat-in-bar`` per line) or from a JSON file with a "beats" list (like assets/demo.json)."""
    if path.endswith(".json"):
        with open(path) as fh:
            return np.asarray(json.load(fh)["beats"], dtype=np.float64)
    return read_annotations(path)[0]


# ------------------------------------------------------------------------------------------------
# Runner
# ------------------------------------------------------------------------------------------------

def _run(args: list[str]) -> str:
    p = subprocess.run([sys.executable, "-m", "visualizer", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"visualizer {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def render_frames(audio: str, *, preset: str, seconds: float, size=(160, 90), fps: int = 60,
                  seed: int = 0, out: str | None = None, via_video: bool = False) -> np.ndarray:
    """The frames ``visualizer render`` makes of ``audio``: uint8 (T, H, W, 3).

    In process by default (``offline.render.painted_frames``: the render's own pixels, before the
    H.264 encoder); ``via_video`` renders an MP4 with ``python -m visualizer render`` and decodes it
    (what a viewer of the file sees, compression included), kept at ``out`` if given."""
    if not via_video:
        source, total = open_audio(Path(audio), seconds, fps)
        return np.stack([frame.view(np.uint8).reshape(*frame.shape, 4)[..., :3].copy() for frame, _ in
                         painted_frames(source, frames=total, preset=preset, size=size, fps=fps, seed=seed)])
    with tempfile.TemporaryDirectory() as tmp:
        mp4 = out or os.path.join(tmp, "render.mp4")
        _run(["render", audio, "--preset", preset, "--size", f"{size[0]}x{size[1]}",
              "--fps", str(fps), "--seconds", f"{seconds:g}", "--seed", str(seed),
              "--no-progress", "--out", mp4])
        return decode_frames(mp4)


def decode_frames(mp4: str) -> np.ndarray:
    """Decode a video to uint8 (T, H, W, 3)."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(mp4, pix_fmt="rgb24")
    meta = next(gen)
    w, h = meta["size"]
    frames = [np.frombuffer(b, dtype=np.uint8).reshape(h, w, 3) for b in gen]
    return np.stack(frames) if frames else np.zeros((0, h, w, 3), np.uint8)


def _audio_rms(path: str, seconds: float, fps: int, n_frames: int) -> np.ndarray:
    import soundfile as sf

    x, sr = sf.read(path, dtype="float64", always_2d=True, frames=-1)
    return rms_per_frame(x[: int(round(seconds * sr))], sr, fps, n_frames)


def _duration(path: str) -> float:
    import soundfile as sf

    return float(sf.info(path).duration)


def measure(song: str, *, preset: str, beats_s=None, seconds: float = 30, size=(160, 90),
            fps: int = 60, seed: int = 0, control: bool = True,
            cache_dir: str | None = None, via_video: bool = False) -> dict:
    """Render ``song`` (and a pink-noise control of the same length) and measure the response.

    beats_s: beat times (s); None takes the live analyser's (``visualizer analyze``).
    seconds: how much to render (the song's length if shorter). cache_dir: keep the control's
    render there and reuse it (the control depends only on preset, length, size, fps and seed).
    Returns {"song": {beat_response, loudness_r, loudness_lag_s, flashes_per_s_max, flashes},
    "control": {beat_response (at the song's beats), loudness_r, loudness_lag_s},
    "two_songs_r" (song vs control), "seconds", "beats", "beats_from"}."""
    seconds = float(min(seconds, _duration(song)))
    if beats_s is None:
        beats_s = analyse_file(song).beats  # the causal analyser, as the render heard it
        beats_from = "analyze"
    else:
        beats_from = "given"
    beats = np.asarray(beats_s, dtype=np.float64)
    beats = beats[beats < seconds]

    frames = render_frames(song, preset=preset, seconds=seconds, size=size, fps=fps, seed=seed, via_video=via_video)
    change = frame_change(frames)
    rms = _audio_rms(song, seconds, fps, len(frames))
    r, lag = loudness_r(change, rms, fps, return_lag=True)
    flashes, flashes_max = large_flashes_per_s(frames, fps)
    out = {"song": {"beat_response": beat_response(change, fps, beats), "loudness_r": r,
                    "loudness_lag_s": lag, "flashes_per_s_max": flashes_max, "flashes": flashes},
           "seconds": seconds, "beats": int(len(beats)), "beats_from": beats_from}
    if control:
        cframes = _control_frames(preset=preset, seconds=seconds, size=size, fps=fps, seed=seed,
                                  cache_dir=cache_dir, via_video=via_video)
        cchange = frame_change(cframes)
        crms = rms_per_frame(pink_noise(seconds), 44100, fps, len(cframes))
        cr, clag = loudness_r(cchange, crms, fps, return_lag=True)
        out["control"] = {"beat_response": beat_response(cchange, fps, beats), "loudness_r": cr,
                          "loudness_lag_s": clag}
        out["two_songs_r"] = two_songs_r(frames, cframes, fps)
    return out


def _control_frames(*, preset: str, seconds: float, size, fps: int, seed: int,
                    cache_dir: str | None, via_video: bool = False) -> np.ndarray:
    import soundfile as sf

    name = os.path.basename(preset).replace('.toml', '')
    key = f"control_{name}_{seconds:g}s_{size[0]}x{size[1]}_{fps}fps_seed{seed}"
    kept = os.path.join(cache_dir, key + (".mp4" if via_video else ".npy")) if cache_dir else None
    if kept and os.path.exists(kept):
        return decode_frames(kept) if via_video else np.load(kept)
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "pink_noise.flac")
        sf.write(wav, pink_noise(seconds), 44100, subtype="PCM_16")
        frames = render_frames(wav, preset=preset, seconds=seconds, size=size, fps=fps, seed=seed,
                               out=kept if via_video else None, via_video=via_video)
    if kept and not via_video:
        np.save(kept, frames)  # the render's own pixels, reused as they are
    return frames


def _fmt(v) -> str:
    if isinstance(v, float):
        return "nan" if not np.isfinite(v) else f"{v:.3f}"
    return str(v)


def _check(a: argparse.Namespace) -> str:
    """One line naming what is wrong with the arguments and how to fix it, or ""."""
    if not os.path.isfile(a.song):
        return f"{a.song}: no such audio file; check the path"
    if a.beats and not os.path.isfile(a.beats):
        return f"--beats {a.beats}: no such file; give annotated beats (time per line) or leave it out"
    try:
        load_preset(a.preset)
    except PresetError as e:
        return str(e)
    size = a.size.lower().split("x")
    if len(size) != 2 or not all(v.isdigit() and int(v) >= 16 and int(v) % 2 == 0 for v in size):
        return f"--size {a.size}: give WxH, both even and at least 16 (e.g. 160x90)"
    if not (a.seconds > 2.0 and a.fps > 0):
        return "--seconds must be more than 2 and --fps positive"
    return ""


def main(argv: list[str] | None = None) -> int:
    """``response SONG --preset P [--beats FILE] [--seconds S] [--json]``: print the figures."""
    ap = argparse.ArgumentParser(prog="visualizer response",
                                 description="Render a preset with a song and with pink noise and "
                                             "measure how the picture responds to the music.")
    ap.add_argument("song")
    ap.add_argument("--preset", default="nn-dmt")
    ap.add_argument("--beats", help="annotated beats (time or time<TAB>beat-in-bar per line, or a "
                                    "JSON file with a 'beats' list); default: the analyser's")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--size", default="160x90", help="video size WxH (default 160x90)")
    ap.add_argument("--fps", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-control", action="store_true", help="skip the pink-noise control")
    ap.add_argument("--via-video", action="store_true",
                    help="measure an encoded MP4 (python -m visualizer render, decoded) "
                         "instead of the render's own pixels")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    problem = _check(a)
    if problem:
        print(f"visualizer response: error: {problem}", file=sys.stderr)
        return 2
    w, h = (int(v) for v in a.size.lower().split("x"))
    beats = read_beats(a.beats) if a.beats else None
    res = measure(a.song, preset=a.preset, beats_s=beats, seconds=a.seconds, size=(w, h),
                  fps=a.fps, seed=a.seed, control=not a.no_control, via_video=a.via_video)
    if a.json:
        print(json.dumps(res, indent=1, default=float))
        return 0
    print(f"{os.path.basename(a.song)}, preset {a.preset}, {res['seconds']:g} s, "
          f"{res['beats']} beats ({res['beats_from']})")
    print(f"{'':10s} {'beat resp':>9s} {'loud r':>7s} {'lag s':>6s} {'flash/s':>7s}")
    s = res["song"]
    print(f"{'song':10s} {_fmt(s['beat_response']):>9s} {_fmt(s['loudness_r']):>7s} "
          f"{s['loudness_lag_s']:6.2f} {s['flashes_per_s_max']:7d}")
    if "control" in res:
        c = res["control"]
        print(f"{'control':10s} {_fmt(c['beat_response']):>9s} {_fmt(c['loudness_r']):>7s} "
              f"{c['loudness_lag_s']:6.2f}")
        print(f"two-songs r (song vs control): {_fmt(res['two_songs_r'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
