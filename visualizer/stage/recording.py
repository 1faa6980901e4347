"""Recording the live output with its sound: one MP4 of what the output showed and what the
audio engine analysed (the played file or the live capture), in sync.

Video frames go on a fixed-rate timeline by the caller's clock: a frame the window took longer
than 1/fps to draw is repeated, one that came early is skipped, and a frame the live writer had
to drop leaves its slot to the next one (a dropped last frame's, to the frame before it), so the
video's length is the recording's length however the window keeps up. Audio blocks are written as
they were analysed (any thread) to a WAV file by a thread of their own. ``finish`` muxes both with
the ffmpeg of imageio-ffmpeg, the audio cut or padded with silence to the video's length, and
removes the parts. The file appears under its name only when it is complete (written under a
hidden temporary name, then renamed); a recording ended by Ctrl-C or SIGTERM is finished all the
same but kept as ``NAME.partial.mp4`` (``finish(interrupted=True)``).
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import threading
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile

from visualizer.background.video_writer import VideoError, VideoWriter, partial_path, temporary_path

log = logging.getLogger(__name__)


class AudioCapture:
    """Blocks of samples (float32 (n, channels), any thread) → a float WAV file, written off-thread.

    The first block fixes the sample rate and the channel count; a block with another rate or
    channel count (a reconnected device) is left out and logged once.
    """

    def __init__(self, path: Path):
        self.path = path
        self.sr = 0
        self.channels = 0
        self.samples = 0
        self._file: soundfile.SoundFile | None = None
        self._blocks: queue.Queue[np.ndarray | None] = queue.Queue()
        self._open = True
        self._mismatch_logged = False
        self._thread = threading.Thread(target=self._write, name="recording-audio", daemon=True)
        self._thread.start()

    def add(self, block: np.ndarray, sr: int) -> None:
        """block : float32 (n, channels) samples at ``sr`` Hz, copied (the caller may reuse it)."""
        if not self._open:
            return
        if not self.sr:
            self.sr, self.channels = sr, block.shape[1]
        if (sr, block.shape[1]) != (self.sr, self.channels):
            if not self._mismatch_logged:
                self._mismatch_logged = True
                log.warning("recording: the audio changed to %d Hz × %d channels mid-recording; left out",
                            sr, block.shape[1])
            return
        self._blocks.put(np.array(block, np.float32))

    def _write(self) -> None:
        while (block := self._blocks.get()) is not None:
            if self._file is None:
                self._file = soundfile.SoundFile(self.path, "w", samplerate=self.sr, channels=self.channels,
                                                 subtype="FLOAT", format="WAV")
            self._file.write(block)
            self.samples += len(block)

    def close(self) -> bool:
        """Finish the file; True if any audio was written."""
        self._open = False
        self._blocks.put(None)
        self._thread.join()
        if self._file is None:
            return False
        self._file.close()
        return True


def mux_command(video: Path, audio: Path, out: Path, *, seconds: float) -> list[str]:
    """ffmpeg: ``video``'s H.264 as it is + ``audio`` as AAC, cut or padded to ``seconds``."""
    return [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-i", str(video),
            "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k",
            "-af", "apad", "-t", f"{seconds:.6f}", "-movflags", "+faststart", str(out)]


class LiveRecording:
    """The output and its audio into ``path`` (.mp4).

    size : (width, height) of the frames, even. shifts : bit positions of R, G, B in a pixel (a
    pygame surface's ``get_shifts()[:3]``). fps : the video's frame rate.
    ``add_frame`` (render thread) and ``add_audio`` (any thread) while recording, then ``finish``
    once (it waits for ffmpeg: call it off the render thread).
    """

    def __init__(self, path: Path, *, size: tuple[int, int], shifts: tuple[int, int, int], fps: float = 60.0):
        self.path = path
        self.fps = fps
        self._video_path = path.with_name(f".{path.stem}.video.mp4")
        self._audio = AudioCapture(path.with_name(f".{path.stem}.audio.wav"))
        self.video = VideoWriter(self._video_path, size=size, fps=fps, shifts=shifts, live=True)
        self._start_s: float | None = None
        self.slots = 0  # frames of the timeline handed to the writer so far
        self.due = 0  # frames of the timeline up to the last frame shown

    def add_frame(self, rows: np.ndarray, time_s: float) -> None:
        """rows : uint32 (height, width) packed pixels shown at ``time_s`` (s, the caller's clock)."""
        if self._start_s is None:
            self._start_s = time_s
        self.due = int((time_s - self._start_s) * self.fps + 1e-6) + 1  # slots up to and including this frame
        if self.due > self.slots and self.video.write(rows, repeats=self.due - self.slots):
            self.slots = self.due

    def add_audio(self, block: np.ndarray, sr: int) -> None:
        """block : float32 (n, channels), the samples the engine analysed next."""
        self._audio.add(block, sr)

    @property
    def dropped(self) -> int:
        """Frames the writer could not take (their slots were filled by the next frame)."""
        return self.video.dropped

    def finish(self, *, interrupted: bool = False) -> Path:
        """Close both parts and mux them into ``path`` (``NAME.partial.mp4`` if ``interrupted``:
        the run was ended by a signal, not by the user stopping the recording); the path written.
        Raises VideoError if ffmpeg failed; an existing file of that name is then left as it was."""
        out = partial_path(self.path) if interrupted else self.path
        muxed = temporary_path(out)
        has_audio = self._audio.close()
        try:
            self.video.close(frames=self.due)
            self.slots = self.video.frames
            if not has_audio:
                os.replace(self._video_path, out)
                return out
            seconds = self.video.frames / self.fps
            done = subprocess.run(mux_command(self._video_path, self._audio.path, muxed, seconds=seconds),
                                  capture_output=True, text=True, start_new_session=True)
            if done.returncode != 0:
                said = done.stderr.strip().splitlines()
                raise VideoError(f"ffmpeg could not mux the audio into {out}: "
                                 f"{said[-1] if said else done.returncode}")
            os.replace(muxed, out)
        finally:
            for part in (self._video_path, self._audio.path, muxed):
                part.unlink(missing_ok=True)
        return out
