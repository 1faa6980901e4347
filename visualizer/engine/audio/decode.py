"""Reading audio files: wav, flac, ogg and mp3 through libsndfile (soundfile)."""

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
