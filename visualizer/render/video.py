"""Video out: phases → RGB frames → an H.264 file through ffmpeg, offline or live.

``FramePainter`` colours a phase field into a preallocated frame of packed pixels of the output
size, with the window's own kernels (edge to edge, smooth e^{iθ} scaling). ``VideoWriter`` converts
each frame to BT.709 yuv420p itself (``rgb_to_yuv420p``, parallel: 2.7× fewer bytes through the
pipe and no conversion in ffmpeg) and pipes it to the ffmpeg binary that ships inside the
imageio-ffmpeg wheel: H.264 (+ AAC audio muxed from a file), ``+faststart``, so any player takes
it. Offline (``live=False``) ``write`` hands the frame straight
to ffmpeg and waits for it; live (``live=True``) it converts the frame into one of a few preallocated
buffers for a writer thread and drops the frame (``dropped``) rather than ever making the render
loop wait. ``render_video`` runs a preset over an audio file in lockstep: deterministic, as fast
as the machine allows.
"""

from __future__ import annotations

import logging
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import imageio_ffmpeg
import numpy as np
from numba import njit, prange

from visualizer import presets
from visualizer.audio.engine import LockstepAudio
from visualizer.render.colour import palette_lut
from visualizer.render.flash import FlashLimiter
from visualizer.render.layout import grid_for_screen
from visualizer.render.scaler import FieldScaler
from visualizer.session import Session

log = logging.getLogger(__name__)

ENCODER_SPEEDS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")  # x264 presets
LIVE_BUFFERS = 4  # frames a live recording can fall behind before it drops one


class VideoError(RuntimeError):
    """ffmpeg refused or failed; the message is one line for the user."""


def pack_rgb0(lut_rgb: np.ndarray) -> np.ndarray:
    """uint8 (n, 3) sRGB → uint32 (n,) pixels whose bytes in memory are R, G, B, 0 (``rgb0``)."""
    rgb = lut_rgb.astype(np.uint32)
    return rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16)


# BT.709, limited range (Y 16..235, Cb/Cr 16..240), 8-bit: Y = 16 + Σ KY·RGB, C = 128 + Σ K·RGB
_KY = tuple(np.float32(k) for k in (219 / 255 * 0.2126, 219 / 255 * 0.7152, 219 / 255 * 0.0722))
_KB = tuple(np.float32(k / 4) for k in (224 / 255 * -0.2126 / 1.8556, 224 / 255 * -0.7152 / 1.8556, 224 / 255 * 0.5))
_KR = tuple(np.float32(k / 4) for k in (224 / 255 * 0.5, 224 / 255 * -0.7152 / 1.5748, 224 / 255 * -0.0722 / 1.5748))
_Y0, _C0 = np.float32(16.5), np.float32(128.5)  # offsets, + 0.5 so the truncation rounds
COLOUR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


@njit(fastmath=True, inline="always")
def _channels(p, r_shift, g_shift, b_shift):
    return (np.float32((p >> r_shift) & 255), np.float32((p >> g_shift) & 255), np.float32((p >> b_shift) & 255))


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def rgb_to_yuv420p(rows, r_shift, g_shift, b_shift, y_out, u_out, v_out):
    """Packed pixels → BT.709 limited-range planar 4:2:0, the chroma of each 2×2 block its mean.

    rows : uint32 (H, W), H and W even, R, G, B at bits ``*_shift``; any strides (a pygame view).
    y_out : uint8 (H, W); u_out, v_out : uint8 (H/2, W/2) (Cb, Cr).
    """
    h, w = rows.shape
    r_shift, g_shift, b_shift = np.uint32(r_shift), np.uint32(g_shift), np.uint32(b_shift)
    for cy in prange(h // 2):
        for y in (2 * cy, 2 * cy + 1):
            for x in range(w):
                r, g, b = _channels(rows[y, x], r_shift, g_shift, b_shift)
                y_out[y, x] = np.uint8(_Y0 + _KY[0] * r + _KY[1] * g + _KY[2] * b)
        for cx in range(w // 2):
            r0, g0, b0 = _channels(rows[2 * cy, 2 * cx], r_shift, g_shift, b_shift)
            r1, g1, b1 = _channels(rows[2 * cy, 2 * cx + 1], r_shift, g_shift, b_shift)
            r2, g2, b2 = _channels(rows[2 * cy + 1, 2 * cx], r_shift, g_shift, b_shift)
            r3, g3, b3 = _channels(rows[2 * cy + 1, 2 * cx + 1], r_shift, g_shift, b_shift)
            r, g, b = r0 + r1 + r2 + r3, g0 + g1 + g2 + g3, b0 + b1 + b2 + b3
            u_out[cy, cx] = np.uint8(_C0 + _KB[0] * r + _KB[1] * g + _KB[2] * b)
            v_out[cy, cx] = np.uint8(_C0 + _KR[0] * r + _KR[1] * g + _KR[2] * b)


class Yuv420Frame:
    """One preallocated yuv420p frame (``data``, contiguous uint8) and its three planes."""

    def __init__(self, size: tuple[int, int]):
        w, h = size
        self.data = np.empty(w * h * 3 // 2, np.uint8)
        self.y = self.data[:w * h].reshape(h, w)
        self.u = self.data[w * h:w * h * 5 // 4].reshape(h // 2, w // 2)
        self.v = self.data[w * h * 5 // 4:].reshape(h // 2, w // 2)

    def convert(self, rows: np.ndarray, shifts: tuple[int, int, int]) -> None:
        rgb_to_yuv420p(rows, *shifts, self.y, self.u, self.v)


class FramePainter:
    """Phases → a frame of packed ``rgb0`` pixels (uint32 (height, width)) of a fixed output size,
    drawn exactly as the window draws them (the field stretched edge to edge, its e^{iθ}
    interpolated bilinearly: ``render.scaler``); the frame is reused every call. Packed
    ``rgb0`` is the layout the flash limiter and ``VideoWriter`` take."""

    SHIFTS = (0, 8, 16)  # bit positions of R, G, B in a pixel

    def __init__(self, size: tuple[int, int]):
        self.size = size
        self.frame = np.zeros((size[1], size[0]), np.uint32)
        self.scaler = FieldScaler(size)
        self._lut_key = None
        self.lut: np.ndarray | None = None  # uint8 (n, 3), the palette's colours
        self._packed: np.ndarray | None = None  # the same as rgb0 pixels

    def use_palette(self, palette: str, *, lightness: float, saturation: float) -> np.ndarray:
        """The LUT for ``palette`` (see ``palette_lut``), rebuilt only when the rounded look changes."""
        key = (palette, round(lightness), round(saturation, 2))
        if key != self._lut_key:
            self._lut_key = key
            self.lut = palette_lut(palette, lightness=key[1], saturation=key[2])
            self._packed = pack_rgb0(self.lut)
        return self.lut

    def paint(self, theta: np.ndarray, *, view: str = "phase", reference: float = 0.0,
              lut: np.ndarray | None = None) -> np.ndarray:
        """theta : float32 (H, W) → the frame, valid until the next call.

        view : "phase" or "antiphase" (see ``render.colourise``). reference : the phase (rad)
        coloured as the palette's zero (``render.reference``). lut : uint8 (n, 3) colours to use
        instead of the palette's (a look or a cross-fade).
        """
        self.scaler.paint(theta, self._packed if lut is None else pack_rgb0(lut), self.frame, view=view,
                          reference=reference)
        return self.frame


def ffmpeg_command(path: Path, *, size: tuple[int, int], fps: float, audio: Path | None = None,
                   seconds: float | None = None, crf: int = 18, speed: str = "veryfast") -> list[str]:
    """The ffmpeg command line: raw BT.709 yuv420p on stdin (+ ``audio``) → H.264 (+ AAC)."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-f", "rawvideo",
               "-pix_fmt", "yuv420p", *COLOUR_TAGS, "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}", "-i", "-"]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "192k"]
    command += ["-c:v", "libx264", "-preset", speed, "-crf", str(crf), "-pix_fmt", "yuv420p", *COLOUR_TAGS,
                "-movflags", "+faststart"]
    if seconds is not None:
        command += ["-t", f"{seconds:.6f}"]
    return command + [str(path)]


class VideoWriter:
    """Frames of packed 32-bit pixels (uint32 (height, width), any strides) into a video file.

    path : output file (.mp4). size : (width, height), both even. fps : frames per second.
    shifts : bit positions of R, G, B in a pixel, each 0, 8, 16 or 24 (``FramePainter.SHIFTS``; a
        pygame surface's ``get_shifts()[:3]``).
    audio : an audio file to mux in from its start (offline renders), or None.
    seconds : cut the file to this long (the audio otherwise sets no limit), or None.
    live : never block ``write`` (a writer thread, dropped frames counted) instead of waiting.
    speed : the x264 preset (``ENCODER_SPEEDS``); default "ultrafast" live, "veryfast" offline.
    """

    def __init__(self, path: str | Path, *, size: tuple[int, int], fps: float,
                 shifts: tuple[int, int, int] = FramePainter.SHIFTS, audio: Path | None = None,
                 seconds: float | None = None, live: bool = False, speed: str | None = None):
        if size[0] % 2 or size[1] % 2:
            raise VideoError(f"video size {size[0]}x{size[1]}: width and height must be even (H.264 4:2:0)")
        if speed is not None and speed not in ENCODER_SPEEDS:
            raise VideoError(f"encoder speed {speed!r}: use one of {', '.join(ENCODER_SPEEDS)}")
        if len(shifts) != 3 or any(shift not in (0, 8, 16, 24) for shift in shifts):
            raise VideoError(f"cannot record pixels with R, G, B at bits {tuple(shifts)}")
        self.shifts = tuple(shifts)
        self.path = Path(path)
        self.size = size
        self.frames = 0
        self.dropped = 0
        self._log = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                ffmpeg_command(self.path, size=size, fps=fps, audio=audio, seconds=seconds,
                               speed=speed or ("ultrafast" if live else "veryfast")),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        except OSError as e:
            raise VideoError(f"cannot start ffmpeg: {e}") from None
        self._thread = None
        self._frame = Yuv420Frame(size)
        self._last: Yuv420Frame | None = None  # the frame piped last (``close`` pads with it)
        if live:
            self._free: queue.Queue[Yuv420Frame] = queue.Queue()
            for _ in range(LIVE_BUFFERS):
                self._free.put(Yuv420Frame(size))
            self._full: queue.Queue[tuple[Yuv420Frame, int] | None] = queue.Queue()
            self._thread = threading.Thread(target=self._drain, name="video-writer", daemon=True)
            self._thread.start()
        self.error: str = ""

    def write(self, frame: np.ndarray, repeats: int = 1) -> bool:
        """Append ``frame`` ``repeats`` times; False if a live writer had to drop it (all buffers busy).

        frame : uint32 (height, width); a pygame ``pixels2d`` view is (width, height): pass ``.T``.
        """
        if self._thread is None:
            self._frame.convert(frame, self.shifts)
            self._pipe(self._frame, repeats)
            return True
        try:
            buffer = self._free.get_nowait()
        except queue.Empty:
            self.dropped += 1
            return False
        buffer.convert(frame, self.shifts)
        self._full.put((buffer, repeats))
        return True

    def _pipe(self, frame: Yuv420Frame, repeats: int) -> None:
        try:
            for _ in range(repeats):
                self._process.stdin.write(frame.data)
                self.frames += 1
            self._last = frame
        except (BrokenPipeError, OSError):
            raise VideoError(f"ffmpeg stopped writing {self.path}: {self._ffmpeg_said()}") from None

    def _drain(self) -> None:
        while (item := self._full.get()) is not None:
            buffer, repeats = item
            if not self.error:
                try:
                    self._pipe(buffer, repeats)
                except VideoError as e:
                    self.error = str(e)
                    log.error("recording: %s", e)
            self._free.put(buffer)

    def _ffmpeg_said(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self._process.poll()}"

    def close(self, *, frames: int = 0) -> Path:
        """Finish the file (waits for ffmpeg); raises VideoError if it failed.

        frames : pad the file to this many frames with the last one written (a live recording
        whose last frame was dropped has no next frame to fill its slots).
        """
        if self._thread is not None:
            self._full.put(None)
            self._thread.join()
        if frames > self.frames and self._last is not None and not self.error:
            try:
                self._pipe(self._last, frames - self.frames)
            except VideoError as e:
                self.error = str(e)
        try:
            self._process.stdin.close()
        except OSError:
            pass
        code = self._process.wait()
        if code != 0 or self.error:
            raise VideoError(self.error or f"ffmpeg failed writing {self.path}: {self._ffmpeg_said()}")
        self._log.close()
        return self.path

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:  # already failing: stop ffmpeg without hiding the first error
            self._process.kill()
            self._process.wait()
            if self._thread is not None:
                self._full.put(None)
                self._thread.join()


class Progress:
    """A one-line progress bar on ``stream`` (stderr), redrawn at most 10 times a second."""

    def __init__(self, total: int, *, label: str = "render", stream: TextIO | None = None, width: int = 30):
        self.total, self.label, self.width = total, label, width
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self._shown = 0.0

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if done < self.total and now - self._shown < 0.1:
            return
        self._shown = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else 0.0
        filled = self.width * done // max(self.total, 1)
        bar = "█" * filled + " " * (self.width - filled)
        self.stream.write(f"\r{self.label} {100 * done // max(self.total, 1):3d}% |{bar}| "
                          f"{done}/{self.total} frames  {rate:5.1f} fps  ETA {eta:4.0f} s ")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int
    seconds: float
    wall_s: float

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


def render_video(audio: Path, *, preset: str, out: Path, size: tuple[int, int] = (1920, 1080),
                 fps: float = 60.0, seconds: float | None = None, grid: tuple[int, int] | None = None,
                 seed: int = 0, progress: bool = True, flash_limit: bool = True,
                 encoder_speed: str = "veryfast") -> RenderResult:
    """Render ``preset`` driven by ``audio`` into ``out``, the audio muxed in.

    seconds : how much to render (default: the whole file). grid : the field's (height, width);
    default: the preset's number of cells in the video's aspect (square cells, edge to edge).
    flash_limit : run the photosensitive flash limiter on every frame (off only on the user's
    explicit request). encoder_speed : the x264 preset (``ENCODER_SPEEDS``): faster ones encode
    with less CPU into bigger files at the same quality setting.
    Deterministic: the analyser is fed exactly 1/fps of samples per frame (``LockstepAudio``) and
    the field's eigenmodes are awaited whenever they are being computed.
    """
    source = LockstepAudio(Path(audio), loop=False)
    duration = len(source.samples) / source.sr
    seconds = duration if seconds is None else seconds
    total = max(1, round(seconds * fps))
    chosen = presets.load(presets.resolve(preset))
    grid = grid or grid_for_screen(size, chosen.field.height * chosen.field.width)
    session = Session(chosen, size=grid, seed=seed, deterministic=True)
    painter = FramePainter(size)
    limiter = FlashLimiter() if flash_limit else None
    bar = Progress(total) if progress else None
    dt = 1.0 / fps
    start = time.perf_counter()
    try:
        with VideoWriter(out, size=size, fps=fps, audio=Path(audio), seconds=total / fps,
                         speed=encoder_speed) as writer:
            for i in range(total):
                source.advance(dt)
                state = session.advance(source.latest(), dt)
                painter.use_palette(state.palette, lightness=state.params.lightness,
                                    saturation=state.params.saturation)
                frame = painter.paint(state.theta, view=state.view, reference=state.reference)
                if limiter is not None:
                    limiter.apply(frame, shifts=FramePainter.SHIFTS, time_s=(i + 1) / fps)
                writer.write(frame)
                if bar is not None:
                    bar.update(i + 1)
    finally:
        session.close()
    return RenderResult(path=Path(out), frames=total, seconds=total / fps, wall_s=time.perf_counter() - start)
