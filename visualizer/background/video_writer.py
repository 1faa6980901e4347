"""Frames → an H.264 file through the ffmpeg binary inside the imageio-ffmpeg wheel.

``VideoWriter`` converts each packed-pixel frame to BT.709 yuv420p itself (2.7× fewer bytes
through the pipe, no conversion in ffmpeg) and pipes it to ffmpeg: H.264 (+ AAC audio muxed from a
file), ``+faststart``, so any player takes it. Offline (``live=False``) ``write`` hands the frame
straight to ffmpeg and waits for it; live (``live=True``) it converts the frame into one of a few
preallocated buffers for a writer thread and drops the frame (``dropped``) rather than ever making
the render loop wait.

ffmpeg writes to a hidden temporary name in the output's folder; ``close`` renames it to the
output's name only when the file is complete, so an earlier file of that name survives any
failure. Interrupted (a KeyboardInterrupt: Ctrl-C, or SIGTERM through
``visualizer.system.signals``) inside ``with VideoWriter(…)``, the frames so far are finalised
(ffmpeg's stdin closed: it writes the moov atom) into ``NAME.partial.mp4``, and the exception
carries that path as ``.partial`` (None if nothing could be kept). ffmpeg runs in a session of its
own, so a Ctrl-C in the terminal reaches only this process, which finalises the file itself.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from visualizer.render.frames import FramePainter, Yuv420Frame
from visualizer.system.signals import interrupt_in, interrupts_deferred

log = logging.getLogger(__name__)

ENCODER_SPEEDS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")  # x264 presets
LIVE_BUFFERS = 4  # frames a live recording can fall behind before it drops one


FINALISE_TIMEOUT_S = 120.0  # an upper bound for ffmpeg to finish a partial file (reached only if it hangs)
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class VideoError(RuntimeError):
    """ffmpeg refused or failed; the message is one line for the user."""


def partial_path(path: Path) -> Path:
    """Where an interrupted file is kept: ``NAME.partial.mp4`` beside ``NAME.mp4``."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def temporary_path(path: Path) -> Path:
    """The hidden name a file is written under until it is complete (same folder, same suffix:
    the rename is atomic and ffmpeg picks the container from the suffix)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident() % 10**6}.part{path.suffix}")


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


COLOUR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


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
        self.temporary = temporary_path(self.path)
        self.fps = fps
        self._audio = audio
        self.size = size
        self.frames = 0
        self.dropped = 0
        self._log = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                ffmpeg_command(self.temporary, size=size, fps=fps, audio=audio, seconds=seconds,
                               speed=speed or ("ultrafast" if live else "veryfast")),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True)
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
        # Ctrl-C / SIGTERM wait until the frame is whole in the pipe: a partial file must not end
        # in half a frame.
        try:
            with interrupts_deferred():
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
            self.temporary.unlink(missing_ok=True)
            raise VideoError(self.error or f"ffmpeg failed writing {self.path}: {self._ffmpeg_said()}")
        self._log.close()
        os.replace(self.temporary, self.path)
        return self.path

    def keep_partial(self) -> Path | None:
        """Finalise what was written so far as ``NAME.partial.mp4`` (never touching ``path``);
        None if nothing playable was written. Further Ctrl-C / SIGTERM wait until it is done."""
        ignored = {}
        if _in_main_thread():
            ignored = {s: signal.signal(s, signal.SIG_IGN) for s in _SIGNALS}
        try:
            if self._thread is not None:
                self._full.put(None)
                self._thread.join()
            try:
                self._process.stdin.close()
            except OSError:
                pass
            try:
                code = self._process.wait(timeout=FINALISE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                code = self._process.wait()
            if code != 0 or self.frames == 0 or not self.temporary.exists():
                log.info("video: nothing kept of %s (%s)", self.path,
                         "no frame written" if self.frames == 0 else self._ffmpeg_said())
                self.temporary.unlink(missing_ok=True)
                return None
            if self._audio is not None:  # the audio runs on to the full length: cut it to the frames kept
                self._cut(self.frames / self.fps)
            kept = partial_path(self.path)
            os.replace(self.temporary, kept)
            return kept
        finally:
            for s, handler in ignored.items():
                signal.signal(s, handler)

    def _cut(self, seconds: float) -> None:
        """Cut the finished temporary file to ``seconds`` (streams copied); left as it was if
        that fails (still playable, the audio longer than the picture)."""
        cut = self.temporary.with_name(f"{self.temporary.stem}.cut{self.temporary.suffix}")
        done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
                               "-i", str(self.temporary), "-map", "0", "-c", "copy", "-t", f"{seconds:.6f}",
                               "-movflags", "+faststart", str(cut)], capture_output=True,
                              start_new_session=True, timeout=FINALISE_TIMEOUT_S, check=False)
        if done.returncode == 0:
            os.replace(cut, self.temporary)
        else:
            cut.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        elif (interrupt := interrupt_in(value)) is not None:  # Ctrl-C or SIGTERM: keep what was written
            interrupt.partial = self.keep_partial()
            interrupt.frames = self.frames
            interrupt.seconds = self.frames / self.fps
        else:  # already failing: stop ffmpeg without hiding the first error
            self._process.kill()
            self._process.wait()
            if self._thread is not None:
                self._full.put(None)
                self._thread.join()
            self.temporary.unlink(missing_ok=True)
