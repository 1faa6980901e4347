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


# -- folk dances in uneven and short meters: the presence gate's test material -----------------------

FOLK_METERS = {"2/4": (2, (0, 1)), "7/8": (7, (0, 3, 5)), "9/8": (9, (0, 2, 4, 6)), "5/8": (5, (0, 2))}
# (units per bar, the beats' positions in units)


def folk_dance(sr: int, *, meter: str, bpm: float, seconds: float = 24.0, seed: int = 0,
               ornaments: bool = True) -> Score:
    """A folk-dance texture the tracker was never tuned on: a frame drum (low "doum" on the beats
    that open a group, high "tek" strokes between), a plucked bass on the first beat, off-beat
    chord stabs and a plucked melody in semiquavers with tremolo ornaments (bouzouki-like), which
    fill the onset envelope with onsets that are not beats. ``meter``: "2/4" (beats on quarters),
    "7/8" (3+2+2), "9/8" (2+2+2+3), "5/8" (2+3); ``bpm`` counts the units of the meter (quarters
    for 2/4, eighths for the others). Beats are the group starts. Starts 0.5 s in."""
    rng = np.random.default_rng(seed)
    units, beat_units = FOLK_METERS[meter]
    unit_s = 60.0 / bpm
    score = Score(sr=sr, seconds=seconds)
    doum = kick(sr)
    scale = 220.0 * 2.0 ** (np.array([0, 1, 4, 5, 7, 8, 10, 12]) / 12)  # a hijaz-like mode on A
    t, bar = 0.5, 0
    while t + units * unit_s < seconds - 0.5:
        for u in range(units * (2 if meter == "2/4" else 1)):
            pos = u / (2 if meter == "2/4" else 1)  # 2/4: an eighth grid
            when = t + pos * unit_s
            on_beat = any(abs(pos - b) < 1e-9 for b in beat_units)
            if on_beat:
                score.beats.append(when)
                gain = 1.0 if pos == 0 else 0.8
                score.place(doum, when, gain)
                score.place(tone(sr, freq_hz=float(scale[0]) / 4 * (1.5 if pos else 1.0), seconds=0.4, decay=6.0),
                            when, 0.6)
            else:
                score.place(snare(sr, rng)[: int(0.05 * sr)] * np.hanning(2 * int(0.05 * sr))[int(0.05 * sr):],
                            when, 0.35 + 0.1 * rng.random())
                if meter == "2/4" or u % 2:
                    score.place(sum(tone(sr, freq_hz=float(f), seconds=0.15, decay=15.0) for f in scale[[2, 4, 7]]),
                                when, 0.25)
        # the melody: semiquavers (2/4) or eighths with tremolo runs, never silent
        n_notes = units * (4 if meter == "2/4" else 2)
        step = units * unit_s / n_notes
        note = int(rng.integers(0, scale.size))
        for i in range(n_notes):
            if rng.random() < 0.25:
                continue
            note = int(np.clip(note + rng.integers(-2, 3), 0, scale.size - 1))
            gain = 0.3 + 0.15 * rng.random()
            score.place(tone(sr, freq_hz=float(scale[note]) * 2, seconds=step * 1.2, decay=8.0, harmonics=5),
                        t + i * step + rng.normal(0, 0.004), gain)
            if ornaments and rng.random() < 0.3:  # a tremolo: three quick repeats
                for k in range(1, 3):
                    score.place(tone(sr, freq_hz=float(scale[note]) * 2, seconds=step / 3, decay=20.0, harmonics=5),
                                t + i * step + k * step / 3, gain * 0.7)
        t += units * unit_s
        bar += 1
    return score


# -- non-rhythmic material: what must not produce beats --------------------------------------------

def pink_noise(sr: int, *, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise, peak 0.5: white noise shaped by 1/√f in the frequency domain."""
    n = int(seconds * sr)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return (0.5 * noise / np.abs(noise).max()).astype(np.float32)


def ambient_pad(sr: int, *, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Slow overlapping chords: each note swells in over 2–4 s and fades over as long, entries at
    irregular times (no pulse), with a slow random tremolo. Peak 0.5."""
    out = np.zeros(int(seconds * sr), np.float32)
    t = 0.0
    while t < seconds:
        root = 110.0 * 2.0 ** (rng.integers(0, 12) / 12)
        length = rng.uniform(4.0, 8.0)
        for ratio in (1.0, 1.25, 1.5, 2.0):
            note = tone(sr, freq_hz=root * ratio, seconds=length, attack_s=rng.uniform(2.0, 4.0), decay=0.0)
            note *= np.minimum((length - np.arange(note.size) / sr) / 2.0, 1.0)  # 2 s release
            start = int(t * sr)
            end = min(start + note.size, out.size)
            out[start:end] += note[: end - start]
        t += rng.uniform(1.5, 4.0)
    time = np.arange(out.size) / sr
    out *= 1.0 + 0.2 * np.sin(2 * np.pi * 0.13 * time + rng.uniform(0, 2 * np.pi))
    return (0.5 * out / max(np.abs(out).max(), 1e-9)).astype(np.float32)


def random_notes(sr: int, *, seconds: float, rng: np.random.Generator, rate_hz: float = 6.0) -> np.ndarray:
    """An unpulsed note texture: decaying 1.5 s tones on random semitones (A2–G#5) at Poisson-random
    times, ``rate_hz`` a second on average, overlapping so the sound never pauses. Peak 0.5."""
    out = np.zeros(int(seconds * sr), np.float32)
    t = rng.exponential(1.0 / rate_hz)
    while t < seconds - 1.0:
        note = tone(sr, freq_hz=float(110.0 * 2.0 ** (rng.integers(0, 36) / 12)), seconds=1.5)
        start = int(t * sr)
        end = min(start + note.size, out.size)
        out[start:end] += note[: end - start] * rng.uniform(0.3, 1.0)
        t += rng.exponential(1.0 / rate_hz)
    return (0.5 * out / max(np.abs(out).max(), 1e-9)).astype(np.float32)


def speech(sr: int, text: str, *, voice: str = "en", words_per_minute: int = 175) -> np.ndarray:
    """``text`` spoken by espeak-ng (``voice``, ``words_per_minute``; its defaults), resampled to
    ``sr``. Peak 0.5.

    Raises FileNotFoundError when espeak-ng is not installed.
    """
    import subprocess
    import tempfile
    from math import gcd
    from pathlib import Path

    import soundfile
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text], check=True,
                       capture_output=True)
        samples, rate = soundfile.read(str(wav), dtype="float32")
    g = gcd(sr, rate)
    samples = resample_poly(samples, sr // g, rate // g)
    return (0.5 * samples / max(np.abs(samples).max(), 1e-9)).astype(np.float32)


SPEECH_TEXT = ("The quick brown fox jumps over the lazy dog. Every morning I walk to the station, buy a "
               "newspaper, and read about the weather, the markets and the long history of the city while "
               "the train rolls slowly through the suburbs. Nobody knows exactly when the rain will stop, "
               "but everybody has an opinion about it, and the conversation goes on and on until the "
               "doors open and we all step out into the grey light of another ordinary day.")


def non_rhythmic(sr: int, *, seconds: float = 30.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Speech (espeak-ng), pink noise, an ambient pad and silence, ``seconds`` long each (speech
    is as long as the text takes)."""
    rng = np.random.default_rng(seed)
    return {"speech": speech(sr, SPEECH_TEXT), "pink noise": pink_noise(sr, seconds=seconds, rng=rng),
            "ambient pad": ambient_pad(sr, seconds=seconds, rng=rng),
            "silence": np.zeros(int(seconds * sr), np.float32)}
