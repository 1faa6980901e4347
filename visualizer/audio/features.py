"""The immutable feature snapshot the analysis thread publishes and the render loop reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSnapshot:
    """What the music is doing at one hop.

    Levels (``energy``, ``bass``, ``mid``, ``high``) are 0..1, normalised by their own long-term
    average so 0.5 is "typical loudness for this track" (auto-gain). Events are counters that only
    grow: a reader compares them with the last value it saw, so no event is missed between frames.

    time_s : stream time of the hop's last sample (s).
    level_dbfs : RMS level (dBFS).
    onset_strength : spectral-flux onset strength (log-magnitude flux, half-wave rectified).
    onset_count, beat_count : events reported so far.
    tempo_bpm : current tempo estimate (0 before the first estimate).
    beat_phase : position within the current beat, 0..1.
    beat_confidence : 0..1, how well the tempo explains the recent onsets.
    tap_tempo : True while a tapped tempo overrides the tracker.
    silent : the silence gate is closed.
    overflows, underruns : counts from the audio device.
    status : "none", "silence", "lost", or a short description of the live source.
    """

    time_s: float = 0.0
    level_dbfs: float = -120.0
    energy: float = 0.0
    bass: float = 0.0
    mid: float = 0.0
    high: float = 0.0
    onset_strength: float = 0.0
    onset_count: int = 0
    beat_count: int = 0
    tempo_bpm: float = 0.0
    beat_phase: float = 0.0
    beat_confidence: float = 0.0
    tap_tempo: bool = False
    silent: bool = True
    overflows: int = 0
    underruns: int = 0
    status: str = "none"

