"""Tiny drum-machine synthesiser for the demo track and the evaluation fixtures.

Every sound starts exactly at its sample position, so the onset and beat times it reports are
exact ground truth. Mono float32 at ``sr`` Hz; nothing here uses third-party audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _fade_out(sound: np.ndarray, sr: int, seconds: float = 0.01) -> np.ndarray:
    """Taper the last ``seconds`` to zero so a sound's end is not itself an onset."""
    n = min(int(seconds * sr), sound.size)
    sound[-n:] *= np.linspace(1.0, 0.0, n)
    return sound


def kick(sr: int) -> np.ndarray:
    """A 0.35 s sine kick sweeping 120 → 45 Hz."""
    t = np.arange(int(0.35 * sr)) / sr
    freq = 45 + 75 * np.exp(-t * 30)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return _fade_out((np.sin(phase) * np.exp(-t * 9)).astype(np.float32), sr)


def snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A 0.2 s noise burst over a 190 Hz body."""
    t = np.arange(int(0.2 * sr)) / sr
    body = 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    noise = rng.standard_normal(t.size) * np.exp(-t * 18)
    return _fade_out((0.6 * (body + 0.7 * noise)).astype(np.float32), sr)


def hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A 60 ms high-passed noise tick."""
    t = np.arange(int(0.06 * sr)) / sr
    noise = rng.standard_normal(t.size)
    noise = np.diff(noise, prepend=0.0)  # crude high-pass
    return _fade_out((0.25 * noise * np.exp(-t * 70)).astype(np.float32), sr)


def click(sr: int) -> np.ndarray:
    """A 10 ms 2 kHz click."""
    t = np.arange(int(0.01 * sr)) / sr
    return _fade_out((0.8 * np.sin(2 * np.pi * 2000 * t) * np.exp(-t * 400)).astype(np.float32), sr, 0.002)


def tone(sr: int, *, freq_hz: float, seconds: float, attack_s: float = 0.005, decay: float = 3.0,
         harmonics: int = 3) -> np.ndarray:
    """A plucked/held tone with a few harmonics (bass notes, pads)."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * freq_hz * h * t) / h for h in range(1, harmonics + 1))
    envelope = np.minimum(t / attack_s, 1.0) * np.exp(-t * decay)
    fade = np.minimum((seconds - t) / 0.02, 1.0)  # no click at the end
    return (wave * envelope * fade).astype(np.float32)


@dataclass
class Score:
    """A mono mix being written, with the exact onset and beat times of what was placed."""

    sr: int
    seconds: float
    audio: np.ndarray = field(init=False)
    onsets: list[float] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.audio = np.zeros(int(self.seconds * self.sr), np.float32)

    def place(self, sound: np.ndarray, time_s: float, gain: float = 1.0, *, onset: bool = True) -> None:
        """Mix ``sound`` in at ``time_s``; record it as an onset unless told otherwise."""
        start = int(round(time_s * self.sr))
        if start >= self.audio.size:
            return
        end = min(start + sound.size, self.audio.size)
        self.audio[start:end] += gain * sound[: end - start]
        if onset:
            self.onsets.append(start / self.sr)

    def normalised(self, peak: float = 0.9) -> np.ndarray:
        return (self.audio * (peak / max(np.abs(self.audio).max(), 1e-9))).astype(np.float32)

    def truth(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted unique onset times (merged within 5 ms) and beat times (s)."""
        onsets = np.unique(np.round(np.array(sorted(self.onsets)), 3))
        if onsets.size:
            onsets = onsets[np.concatenate([[True], np.diff(onsets) > 0.005])]
        return onsets, np.array(sorted(self.beats))


def beat_grid(segments: list[tuple[float, float]], *, start_s: float = 0.0) -> np.ndarray:
    """Beat times for consecutive (duration_s, bpm) segments; a bpm of 0 is a silent gap."""
    beats, t = [], start_s
    for duration, bpm in segments:
        end = t + duration
        if bpm > 0:
            period = 60.0 / bpm
            while t < end - 1e-9:
                beats.append(t)
                t += period
        t = end
    return np.array(beats)
