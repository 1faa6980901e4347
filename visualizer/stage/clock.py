"""Beat sources besides the tracker: MIDI clock in, and where bars begin.

``MidiClock`` is fed MIDI real-time messages (24 clock ticks per quarter note, start, continue,
stop) with their arrival times on the MIDI thread, and publishes an immutable ``ClockState``.
``BeatMerge`` lets that clock override the tracker's beats and tempo while it runs, keeping the
snapshot's event counters growing monotonically across the hand-over. ``BarClock`` tells, frame
by frame, when a new bar begins: on the tracker's downbeat when it reports one, else every
fourth beat.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, fields, replace

from visualizer.engine.audio.features import FeatureSnapshot

PPQN = 24  # MIDI clock ticks per quarter note
BEATS_PER_BAR = 4
CLOCK_TIMEOUT_S = 0.5  # no tick for this long: the clock is gone, the tracker leads again
TEMPO_WINDOW_TICKS = 48  # tempo = mean tick interval over the last two beats


@dataclass(frozen=True)
class ClockState:
    """The MIDI clock as last heard.

    running : between start/continue and stop (or free-running: ticks with no start heard).
    ticks : clock ticks counted while running since the last start.
    bars_known : a start was heard, so tick 0 is a downbeat.
    tempo_bpm : from the mean tick interval (0 until two ticks arrived).
    last_tick_s : monotonic time of the last tick (s).
    """

    running: bool = False
    ticks: int = -1
    bars_known: bool = False
    tempo_bpm: float = 0.0
    last_tick_s: float = -1e9

    def present(self, now_s: float) -> bool:
        return self.running and self.ticks >= 0 and now_s - self.last_tick_s < CLOCK_TIMEOUT_S

    def beats(self) -> int:
        """Beats begun so far (tick 0 is the first beat)."""
        return self.ticks // PPQN + 1 if self.ticks >= 0 else 0

    def beat_phase(self, now_s: float) -> float:
        """Position in the current beat, 0..1, interpolated between ticks."""
        tick_s = 60.0 / (self.tempo_bpm * PPQN) if self.tempo_bpm > 0 else 0.0
        since = min((now_s - self.last_tick_s) / tick_s, 0.999) if tick_s else 0.0
        return ((self.ticks % PPQN) + since) / PPQN


class MidiClock:
    """MIDI clock in: call ``feed(message_type, time_s)`` from the MIDI thread; ``state`` anywhere."""

    def __init__(self):
        self.state = ClockState()
        self._intervals: deque[float] = deque(maxlen=TEMPO_WINDOW_TICKS)
        self._last_s: float | None = None

    def feed(self, kind: str, time_s: float) -> None:
        """kind : "clock", "start", "continue" or "stop" (others are ignored)."""
        s = self.state
        if kind == "start":
            self.state = replace(s, running=True, ticks=-1, bars_known=True)
        elif kind == "continue":
            self.state = replace(s, running=True)
        elif kind == "stop":
            self.state = replace(s, running=False)
        elif kind == "clock":
            if self._last_s is not None and 0.0 < time_s - self._last_s < CLOCK_TIMEOUT_S:
                self._intervals.append(time_s - self._last_s)
            elif self._last_s is not None:
                self._intervals.clear()  # a gap: the old intervals say nothing about the new tempo
            self._last_s = time_s
            tempo = 60.0 / (PPQN * sum(self._intervals) / len(self._intervals)) if self._intervals else 0.0
            if s.ticks < 0 and not s.running:  # ticks with no start: free-running, bars unknown
                s = replace(s, running=True, bars_known=False)
            ticks = s.ticks + 1 if s.running else s.ticks
            self.state = replace(s, ticks=ticks, tempo_bpm=tempo, last_tick_s=time_s)


_SNAPSHOT_FIELDS = {f.name for f in fields(FeatureSnapshot)}


class BeatMerge:
    """The tracker's snapshot, with beats, tempo and bars from the MIDI clock while it runs.

    Counters stay monotonic: each frame adds the beats the leading source advanced by.
    """

    def __init__(self, clock: MidiClock | None):
        self.clock = clock
        self.clock_leads = False
        self._beats = 0
        self._downbeats = 0
        self._seen: dict[str, tuple[int, int]] | None = None

    def apply(self, features: FeatureSnapshot, now_s: float | None = None) -> FeatureSnapshot:
        now_s = time.monotonic() if now_s is None else now_s
        state = self.clock.state if self.clock is not None else ClockState()
        leads = state.present(now_s)
        tracker = (features.beat_count, getattr(features, "downbeat_count", 0))
        clock_beats = state.beats()
        clock = (clock_beats, (clock_beats + BEATS_PER_BAR - 1) // BEATS_PER_BAR)  # free-running: bars anyway
        counts = clock if leads else tracker
        if self._seen is None:  # the first frame: carry on from the leading source's counts
            self._beats, self._downbeats = counts
            self._seen = {"tracker": tracker, "clock": clock}
        seen = self._seen["clock" if leads else "tracker"]
        if leads == self.clock_leads:
            self._beats += max(counts[0] - seen[0], 0)
            self._downbeats += max(counts[1] - seen[1], 0)
        self.clock_leads = leads
        self._seen = {"tracker": tracker, "clock": clock}
        if not leads:
            return replace(features, beat_count=self._beats,
                           **({"downbeat_count": self._downbeats} if "downbeat_count" in _SNAPSHOT_FIELDS else {}))
        phase = state.beat_phase(now_s)
        values = {"beat_count": self._beats, "tempo_bpm": state.tempo_bpm, "beat_phase": phase,
                  "beat_confidence": 1.0, "downbeat_count": self._downbeats}
        if state.bars_known:
            in_bar = (clock_beats - 1) % BEATS_PER_BAR
            values.update(beat_in_bar=in_bar, meter=BEATS_PER_BAR, bar_phase=(in_bar + phase) / BEATS_PER_BAR)
        values["beat_present"] = True
        return replace(features, **{k: v for k, v in values.items() if k in _SNAPSHOT_FIELDS})


class BarClock:
    """Notices, frame by frame, when a bar begins and how many beats went by.

    A bar begins when the snapshot's ``downbeat_count`` grows. While no downbeat has come for two
    bars' worth of beats (or ever), bars fall on beats 1, 1 + ``beats_per_bar``, … of
    ``beat_count`` instead.
    """

    def __init__(self, beats_per_bar: int = BEATS_PER_BAR):
        self.beats_per_bar = beats_per_bar
        self._beats: int | None = None
        self._downbeats = 0
        self._beats_at_downbeat: int | None = None

    def update(self, features: FeatureSnapshot) -> tuple[bool, int]:
        """(a bar began this frame, beats begun this frame)."""
        beats = features.beat_count
        downbeats = getattr(features, "downbeat_count", 0)
        last_beats = beats if self._beats is None else self._beats
        if downbeats > self._downbeats:
            bar, self._beats_at_downbeat = True, beats
        elif self._beats_at_downbeat is None or beats - self._beats_at_downbeat > 2 * self.beats_per_bar:
            bar = (beats - 1) // self.beats_per_bar > (last_beats - 1) // self.beats_per_bar  # beats 1, 5, 9, …
        else:
            bar = False
        self._beats, self._downbeats = beats, downbeats
        return bar, max(beats - last_beats, 0)
