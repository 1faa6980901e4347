"""Reading audio files: wav, flac, ogg and mp3 through libsndfile (soundfile), whole (short
clips, tests) or block by block from disk (``AudioReader``: playback, trace, render and analyze of
a file of any length in flat memory)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np


class AudioFileError(ValueError):
    """An audio file is missing or cannot be decoded; the message is one line for the user."""


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` → (float32 samples (n_frames, n_channels) in −1..1, sample rate in Hz)."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such audio file; check the path")
    try:
        samples, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
        raise _undecodable(path, e) from None
    if samples.shape[0] == 0:
        raise AudioFileError(f"{path}: the file holds no audio")
    return samples, int(sr)


class AudioReader:
    """A file opened for reading in blocks: ``read(n)`` → float32 (≤ n, channels) in −1..1, the
    file's first ``max_channels`` channels; at the end of the file (or with ``loop``, never) a
    shorter block. A decoding error in the middle (a truncated or damaged file) raises
    AudioFileError naming the file and the time it stopped at. Memory is one block, whatever the
    length of the file."""

    def __init__(self, path: str | Path, *, loop: bool = False, max_channels: int = 2):
        import soundfile

        check_audio_file(path)
        self.path = Path(path)
        self.loop = loop
        try:
            self._file = soundfile.SoundFile(str(self.path))
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
            raise _undecodable(self.path, e) from None
        self.sr = int(self._file.samplerate)
        self.channels = min(self._file.channels, max_channels)
        self.frames = int(self._file.frames)  # as the header says (a truncated file holds fewer)
        self.position = 0  # frames read since the last rewind

    @property
    def duration_s(self) -> float:
        """The length the file's header gives (s)."""
        return self.frames / self.sr

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` frames (fewer at the end of a file read once), float32 (m, channels)."""
        block = self._read(n)
        while self.loop and len(block) < n:
            self._rewind()
            more = self._read(n - len(block))
            if len(more) == 0:  # a file of no frames after all
                break
            block = np.concatenate([block, more])
        return block

    def _read(self, n: int) -> np.ndarray:
        import soundfile

        try:
            block = self._file.read(n, dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, OverflowError) as e:
            raise AudioFileError(f"{self.path}: cannot decode audio after {self.position / self.sr:.1f} s "
                                 f"({e}); the file is damaged or truncated") from None
        self.position += len(block)
        return block[:, :self.channels]

    def _rewind(self) -> None:
        self._file.seek(0)
        self.position = 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _undecodable(path: Path, error: Exception) -> AudioFileError:
    """The one line for a file libsndfile cannot read (its "does not exist" means "unknown format"
    here: the file was found)."""
    reason = "not a format libsndfile recognises" if "does not exist" in str(error) else str(error)
    return AudioFileError(f"{path}: cannot decode audio ({reason}); use wav, flac, ogg or mp3")


@contextlib.contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for a moment (C libraries write there directly).
    Only used before any thread of ours runs, so nothing else is lost."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_audio_file(path: str | Path) -> None:
    """Raise AudioFileError unless ``path`` is a readable audio file holding at least one frame
    (reads the header only: cheap enough to call before anything opens)."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such audio file; check the path")
    try:
        with _native_stderr_silenced():  # libmpg123 prints "Note: …" lines for a junk .mp3
            info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
        raise _undecodable(path, e) from None
    if info.frames == 0:
        raise AudioFileError(f"{path}: the file holds no audio")


def mono(samples: np.ndarray) -> np.ndarray:
    """Mix (n_frames, n_channels) down to contiguous float32 (n_frames,)."""
    return np.ascontiguousarray(samples.mean(axis=1, dtype=np.float32))
