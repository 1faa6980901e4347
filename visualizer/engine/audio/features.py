"""The immutable feature snapshot the analysis thread publishes and the render loop reads."""

from __future__ import annotations

from dataclasses import dataclass

NO_MUSIC = ("none", "lost", "starting")  # statuses under which no music is arriving (the LFO sweeps run instead)


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
    tempo_bpm : current tempo estimate (0 while no beat is present: before the first estimate,
        in silence and on non-rhythmic sound).
    beat_phase : position within the current beat, 0..1.
    beat_confidence : 0..1, how well the tempo explains the recent onsets.
    tap_tempo : True while a tapped tempo overrides the tracker.
    silent : the silence gate is closed.
    overflows, underruns : counts from the audio device.
    status : "none", "silence", "lost", or a short description of the live source.
    beat_present : the onset envelope is periodic at the tracked tempo (or a tap tempo is set);
        False means "no beat": no beats are reported, tempo_bpm is 0.
    beat_in_bar : 1..meter, position of the latest beat in its bar (1 = downbeat; 0 before any).
    meter : beats per bar, 3 or 4 (the tracker's current belief).
    bar_phase : position within the current bar, 0..1 (0 while no beat is present).
    downbeat_count : downbeats reported so far (a counter, like beat_count).
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
    beat_present: bool = False
    beat_in_bar: int = 0
    meter: int = 4
    bar_phase: float = 0.0
    downbeat_count: int = 0

    @property
    def music_heard(self) -> bool:
        """Music is arriving and the silence gate is open."""
        return not self.silent and self.status not in NO_MUSIC

