"""Beat sources besides the tracker: MIDI clock in, and where bars begin.

``MidiClock`` is fed MIDI real-time messages (24 clock ticks per quarter note, start, continue,
stop) with their arrival times on the MIDI thread, and publishes an immutable ``ClockState``.
``TapTempo`` makes beats from taps; ``TimedBeat`` keeps time when nothing else does. ``BeatMerge``
chooses the leading source each frame (clock, taps, tracker, timed), clamps every tempo to
40–240 BPM, and keeps the snapshot's event counters growing monotonically across hand-overs. ``BarClock`` tells, frame
by frame, when a new bar begins: on the tracker's downbeat when it reports one, else every
fourth beat.
"""

from __future__ import annotations

import math
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
MIN_BPM, MAX_BPM = 40.0, 240.0  # every tempo the stage passes on (tap, clock, tracker) is clamped to this
FALLBACK_BPM = 120.0  # the timed beat's tempo before any source gave one
MIN_BEAT_GAP_S = 0.9 * 60.0 / MAX_BPM  # beats closer than this are dropped (0.9: a frame's jitter at 240 BPM)


def clamp_bpm(bpm: float) -> float:
    """A tempo inside MIN_BPM..MAX_BPM (0 stays 0: no tempo)."""
    return min(max(bpm, MIN_BPM), MAX_BPM) if bpm > 0 else 0.0


class TapTempo:
    """Tempo and beats from taps (key T, a pad, ``/visualizer/tap``), on the stage's own clock.

    A tap closer than 60/MAX_BPM s to the last one is ignored (counted in ``ignored``); one more
    than 60/MIN_BPM s after it starts a new tempo. The period is the median of the last intervals;
    beats fall on its grid, anchored at the last tap.
    """

    def __init__(self) -> None:
        self.taps: deque[float] = deque(maxlen=8)
        self.ignored = 0
        self._next_s = math.inf  # the next beat on the grid

    def tap(self, time_s: float) -> None:
        if self.taps and time_s - self.taps[-1] < 60.0 / MAX_BPM:
            self.ignored += 1
            return
        if self.taps and time_s - self.taps[-1] > 60.0 / MIN_BPM:
            self.taps.clear()
        self.taps.append(time_s)
        if self.period_s is not None:
            self._next_s = time_s  # the tap is a beat

    def clear(self) -> None:
        self.taps.clear()
        self._next_s = math.inf

    @property
    def period_s(self) -> float | None:
        """Seconds per beat (60/MAX_BPM..60/MIN_BPM), None before two taps."""
        if len(self.taps) < 2:
            return None
        intervals = sorted(b - a for a, b in zip(self.taps, list(self.taps)[1:]))
        return intervals[len(intervals) // 2]

    def beats_until(self, time_s: float) -> int:
        """Grid beats that fell since the last call, up to ``time_s``."""
        period, beats = self.period_s, 0
        while period is not None and self._next_s <= time_s:
            beats += 1
            self._next_s += period
        return beats

    def phase(self, time_s: float) -> float:
        period = self.period_s
        return 0.0 if period is None else min(max(1.0 - (self._next_s - time_s) / period, 0.0), 0.999)


class TimedBeat:
    """A beat that keeps time alone, for bars when no source has one (scenes and drops go on)."""

    def __init__(self) -> None:
        self.bpm = FALLBACK_BPM
        self.position = 0.0  # beats since it started

    def advance(self, dt_s: float) -> None:
        self.position += dt_s * self.bpm / 60.0


@dataclass(frozen=True)
class Merged:
    """features : the snapshot the session sees (beats from the clock, taps or the tracker);
    timing : the same, with the timed beat's beats and bars while no source has a beat (scenes,
    drops and the strobe keep time with it). leader : "clock", "tap", "tracker" or "timed"."""

    features: FeatureSnapshot
    timing: FeatureSnapshot
    leader: str


class BeatMerge:
    """The tracker's snapshot, with beats, tempo and bars from the MIDI clock while it runs, else
    from taps while tapped, else the tracker's while it hears a beat, else a timed beat (for bars
    only). Every tempo is clamped to MIN_BPM..MAX_BPM and beats closer than MIN_BEAT_GAP_S dropped.

    Counters stay monotonic: each frame adds the beats the leading source advanced by.
    """

    def __init__(self, clock: MidiClock | None):
        self.clock = clock
        self.taps = TapTempo()
        self.timed = TimedBeat()
        self.clock_leads = False
        self.time_s = 0.0  # the stage's clock: the frames' dt summed
        self._counts = {"real": [0, 0], "timing": [0, 0]}  # (beats, downbeats) handed out
        self._last_beat_s = -math.inf
        self._leader: str | None = None
        self._seen: dict[str, tuple[int, int]] = {}
        self._tap_beats = 0

    def tap(self) -> None:
        self.taps.tap(self.time_s)

    def apply(self, features: FeatureSnapshot, dt_s: float, now_s: float | None = None) -> Merged:
        """features : the tracker's; dt_s : the frame's time step (s); now_s : the monotonic
        clock the MIDI clock's ticks were stamped with (None: now)."""
        self.time_s += dt_s
        now_s = time.monotonic() if now_s is None else now_s
        state = self.clock.state if self.clock is not None else ClockState()
        clock_beats = state.beats()
        self._tap_beats += self.taps.beats_until(self.time_s)
        sources = {"clock": (clock_beats, (clock_beats + BEATS_PER_BAR - 1) // BEATS_PER_BAR),  # free-running: bars
                   "tap": (self._tap_beats, (self._tap_beats + BEATS_PER_BAR - 1) // BEATS_PER_BAR),
                   "tracker": (features.beat_count, getattr(features, "downbeat_count", 0)),
                   "timed": (int(self.timed.position) + 1, int(self.timed.position) // BEATS_PER_BAR + 1)}
        if state.present(now_s):
            leader = "clock"
        elif self.taps.period_s is not None:
            leader = "tap"
        elif features.beat_present or features.tap_tempo:
            leader = "tracker"
        else:
            leader = "timed"
        self.clock_leads = leader == "clock"
        if self._leader is None:  # the first frame: carry on from the tracker's counts
            self._counts = {name: list(sources["tracker"]) for name in self._counts}
        elif leader == self._leader:
            self._count(leader, sources[leader])
        self._leader, self._seen = leader, sources
        self.timed.advance(dt_s)
        return self._snapshots(features, leader, state, now_s)

    def _count(self, leader: str, counts: tuple[int, int]) -> None:
        """Add the leader's new beat (one at most, and not too soon) and downbeat to the counters."""
        seen = self._seen[leader]
        if counts[0] <= seen[0] or self.time_s - self._last_beat_s < MIN_BEAT_GAP_S:
            return
        self._last_beat_s = self.time_s
        downbeat = int(counts[1] > seen[1])
        for name in ("timing",) if leader == "timed" else ("real", "timing"):
            self._counts[name][0] += 1
            self._counts[name][1] += downbeat

    def _snapshots(self, features: FeatureSnapshot, leader: str, state: ClockState, now_s: float) -> Merged:
        def with_counts(snapshot: FeatureSnapshot, name: str, **values) -> FeatureSnapshot:
            values.update(beat_count=self._counts[name][0], downbeat_count=self._counts[name][1])
            return replace(snapshot, **{k: v for k, v in values.items() if k in _SNAPSHOT_FIELDS})

        tempo = clamp_bpm(features.tempo_bpm)
        values: dict = {"tempo_bpm": tempo}
        if leader == "clock":
            phase = state.beat_phase(now_s)
            values.update(tempo_bpm=clamp_bpm(state.tempo_bpm), beat_phase=phase, beat_confidence=1.0,
                          beat_present=True)
            if state.bars_known:
                in_bar = (state.beats() - 1) % BEATS_PER_BAR
                values.update(beat_in_bar=in_bar, meter=BEATS_PER_BAR, bar_phase=(in_bar + phase) / BEATS_PER_BAR)
        elif leader == "tap":
            values.update(tempo_bpm=clamp_bpm(60.0 / self.taps.period_s), beat_phase=self.taps.phase(self.time_s),
                          beat_confidence=1.0, beat_present=True, tap_tempo=True)
        if values["tempo_bpm"] > 0:
            self.timed.bpm = values["tempo_bpm"]  # the timed beat goes on at the last tempo heard
        merged = with_counts(features, "real", **values)
        if leader != "timed":
            return Merged(merged, with_counts(merged, "timing"), leader)
        timing = with_counts(features, "timing", tempo_bpm=self.timed.bpm, beat_phase=self.timed.position % 1.0)
        return Merged(merged, timing, leader)


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
