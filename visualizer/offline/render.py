"""``visualizer render AUDIO --preset NAME --out clip.mp4``: an offline render with the audio muxed in.

Deterministic (the audio is analysed in lockstep with the frames) and as fast as the machine
allows; a progress bar on stderr. Errors become one line and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from visualizer.background.video_writer import ENCODER_SPEEDS, VideoError, VideoWriter
from visualizer.engine import presets
from visualizer.engine.audio.decode import AudioFileError
from visualizer.engine.audio.engine import LockstepAudio
from visualizer.engine.session import FrameState, Session
from visualizer.offline.arguments import grid_size, positive
from visualizer.render.flash import FlashLimiter
from visualizer.render.frames import FramePainter
from visualizer.render.layout import grid_for_screen
from visualizer.system.signals import exit_code, interrupt_in, interrupts_deferred, sigterm_like_sigint, which

log = logging.getLogger(__name__)

EXIT_USAGE = 2


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


def open_audio(audio: Path, seconds: float | None, fps: float) -> tuple[LockstepAudio, int]:
    """The file as a lockstep source, and how many frames of 1/``fps`` s cover ``seconds`` of it
    (default: all of it; at least one)."""
    source = LockstepAudio(Path(audio), loop=False)
    seconds = source.duration_s if seconds is None else seconds
    return source, max(1, round(seconds * fps))


def painted_frames(source: LockstepAudio, *, frames: int, preset: str, size: tuple[int, int], fps: float = 60.0,
                   grid: tuple[int, int] | None = None, seed: int = 0,
                   flash_limit: bool = True) -> Iterator[tuple[np.ndarray, FrameState]]:
    """The ``frames`` frames a render of ``preset`` driven by ``source`` shows, one per 1/``fps``
    s: (packed ``rgb0`` pixels uint32 (height, width) of ``size`` (width, height), reused between
    frames; the Session's FrameState).

    grid : the field's (height, width); default: the preset's number of cells in the video's
    aspect (square cells, edge to edge). flash_limit : the photosensitive flash limiter on every
    frame (off only on the user's explicit request). Deterministic: the analyser is fed exactly
    1/fps of samples per frame and the field's eigenmodes are awaited whenever they are being computed.
    """
    chosen = presets.load_preset(preset)
    grid = grid or grid_for_screen(size, chosen.field.height * chosen.field.width)
    session = Session(chosen, size=grid, seed=seed, deterministic=True)
    painter = FramePainter(size)
    limiter = FlashLimiter() if flash_limit else None
    dt = 1.0 / fps
    try:
        for i in range(frames):
            with interrupts_deferred():  # Ctrl-C / SIGTERM end the render between frames
                source.advance(dt)
                state = session.advance(source.latest(), dt)
                painter.use_palette(state.palette, lightness=state.params.lightness,
                                    saturation=state.params.saturation)
                frame = painter.paint(state.theta, view=state.view, reference=state.reference, stagger=state.stagger)
                if limiter is not None:
                    limiter.apply(frame, shifts=FramePainter.SHIFTS, time_s=(i + 1) / fps)
            yield frame, state
    finally:
        session.close()


def render_video(audio: Path, *, preset: str, out: Path, size: tuple[int, int] = (1920, 1080),
                 fps: float = 60.0, seconds: float | None = None, grid: tuple[int, int] | None = None,
                 seed: int = 0, progress: bool = True, flash_limit: bool = True,
                 encoder_speed: str = "veryfast") -> RenderResult:
    """Render ``preset`` driven by ``audio`` into ``out``, the audio muxed in; the frames are
    ``painted_frames``'. seconds : how much to render (default: the whole file). encoder_speed :
    the x264 preset (``ENCODER_SPEEDS``): faster ones encode with less CPU into bigger files at
    the same quality setting."""
    source, total = open_audio(audio, seconds, fps)
    bar = Progress(total) if progress else None
    start = time.perf_counter()
    with VideoWriter(out, size=size, fps=fps, audio=Path(audio), seconds=total / fps, speed=encoder_speed) as writer:
        for i, (frame, _) in enumerate(painted_frames(source, frames=total, preset=preset, size=size, fps=fps,
                                                      grid=grid, seed=seed, flash_limit=flash_limit)):
            writer.write(frame)
            if bar is not None:
                bar.update(i + 1)
    return RenderResult(path=Path(out), frames=total, seconds=total / fps, wall_s=time.perf_counter() - start)


def parse_video_size(text: str) -> tuple[int, int]:
    """``WxH`` → (width, height), both even and at least 16."""
    m = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"--size expects WxH (e.g. 1920x1080), not {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if w < 16 or h < 16 or w % 2 or h % 2 or w > 7680 or h > 4320:
        raise argparse.ArgumentTypeError(f"--size {w}x{h}: width and height must be even, 16..7680 × 16..4320")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="visualizer render",
                                description="Render a preset driven by an audio file to a video file (H.264 + AAC).")
    p.add_argument("audio", type=Path, help="audio file that drives the field and is muxed into the video")
    p.add_argument("--preset", default="nn-dmt", help="preset name or path to a .toml file (default: nn-dmt)")
    p.add_argument("--out", type=Path, required=True, help="output video file (.mp4)")
    p.add_argument("--size", type=parse_video_size, default=(1920, 1080), help="video size WxH (default 1920x1080)")
    p.add_argument("--fps", type=positive, default=60.0, help="frames per second (default 60)")
    p.add_argument("--seconds", type=positive, help="render only this many seconds (default: the whole file)")
    p.add_argument("--grid", type=grid_size("--grid"), help="field size N or HxW (cells), overriding the preset's")
    p.add_argument("--seed", type=int, default=0, help="random seed for phases, frequencies, links")
    p.add_argument("--encoder-speed", choices=ENCODER_SPEEDS, default="veryfast",
                   help="x264 preset (default veryfast, the smallest file); superfast encodes with about half "
                        "the CPU into files about 2.3× bigger, ultrafast with a third into files about 3× bigger")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-flash-limit", action="store_true",
                   help="do NOT limit flashes to 3 per second (photosensitive epilepsy risk: only for "
                        "material you have checked yourself)")
    return p


def main(argv: list[str] | None = None) -> int:
    sigterm_like_sigint()
    args = build_parser().parse_args(argv)
    if not args.audio.is_file():
        print(f"visualizer render: error: {args.audio}: no such audio file", file=sys.stderr)
        return EXIT_USAGE
    if args.out.suffix.lower() not in (".mp4", ".mov", ".mkv"):
        print(f"visualizer render: error: --out {args.out}: use a .mp4 (or .mov, .mkv) file name", file=sys.stderr)
        return EXIT_USAGE
    if args.no_flash_limit:
        log.warning("flash limiter off (--no-flash-limit): the video may flash more than 3 times a second")
    try:
        result = render_video(args.audio, preset=args.preset, out=args.out, size=args.size, fps=args.fps,
                              seconds=args.seconds, grid=args.grid, seed=args.seed,
                              progress=not args.no_progress, flash_limit=not args.no_flash_limit,
                              encoder_speed=args.encoder_speed)
    except (presets.PresetError, AudioFileError, VideoError, ValueError) as e:
        print(f"visualizer render: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BaseException as caught:  # Ctrl-C or SIGTERM (maybe wrapped): what was rendered is kept apart
        if (e := interrupt_in(caught)) is None:  # not an interrupt: as it was
            raise
        partial = getattr(e, "partial", None)
        kept = (f"kept the first {getattr(e, 'seconds', 0.0):.1f} s as {partial}" if partial is not None
                else "nothing kept")
        untouched = f"; {args.out} untouched" if args.out.exists() else ""
        newline = "" if args.no_progress else "\n"  # below the progress bar
        print(f"{newline}visualizer render: interrupted ({which(e)}); {kept}{untouched}", file=sys.stderr)
        return exit_code(e)
    print(f"{result.path}: {result.frames} frames, {result.seconds:.2f} s at {args.size[0]}x{args.size[1]}, "
          f"rendered at {result.fps:.1f} frames/s ({result.fps / args.fps:.2f}× real time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
