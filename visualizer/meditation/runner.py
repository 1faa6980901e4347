"""Running a session: the per-frame driver the window uses, and the headless runner.

``SessionDriver.frame(features)`` moves the session to its clock's time (the wall clock: a slow
frame makes a longer step, never a slower session), applies the timeline to a ``Session`` (kernel
morph, injection, temperature), picks the phase's energy input (the music's features, the drone's own,
or silence), advances the field one frame, keeps the report's series and returns the
``FrameState`` with a ``SessionView``: everything the window draws besides the field.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numba
import numpy as np

from visualizer.engine.audio.engine import AudioEngine, LockstepAudio, NoAudio
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import COUPLINGS
from visualizer.engine.session import FrameState, Session
from visualizer.meditation.breath import REST, BreathPacer, BreathSample
from visualizer.meditation.report import (
    Person,
    Quenches,
    Recorder,
    SessionReport,
    equal_time_frames,
    quench_frames,
    quench_from,
    summarise,
)
from visualizer.meditation.sound import SILENCE, SoundBed, drone_features
from visualizer.meditation.timeline import SessionPlan, Timeline
from visualizer.system.signals import interrupts_deferred

log = logging.getLogger(__name__)

FPS = 60
FOLLOW_S = 1.0  # applied values follow the timeline with this lag, so even a skip is a glide
FAST_SIZE = (64, 64)


@dataclass(frozen=True)
class SessionView:
    """What the window shows this frame besides the field.

    phase_name, phase_index, time_s, time_left_s (s) : for the overlay. fade : 0..1 picture and
    sound level (fade in/out). breath : the pacer (value 0..1, word "in"/"out"). cue, cue_opacity
    : the phase's cue text now ("" = none). intention, intention_opacity : the user's intention
    (at the start and at the peak). palette_from, palette_to, palette_mix, lightness, warmth :
    the colour table (see ``look.SessionLook``). finished : the session has ended.
    """

    phase_name: str
    phase_index: int
    time_s: float
    time_left_s: float
    fade: float
    breath: BreathSample
    cue: str
    cue_opacity: float
    intention: str
    intention_opacity: float
    palette_from: str
    palette_to: str
    palette_mix: float
    lightness: float
    warmth: float
    finished: bool


class StepClock:
    """A clock that moves only when told (s): lockstep runs, tests and stills."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, dt_s: float) -> None:
        self.now_s += dt_s


class SessionDriver:
    """Plays ``plan`` on ``session``, one call of ``frame`` per picture, on the wall clock.

    Session time follows ``clock`` (s, monotonic; ``time.monotonic`` by default): a slow frame
    makes the next step longer (the field may drop frames; ``Session`` clamps a step), never
    the session slower. person : the intention (shown at the start and at the peak) and the
    calm ratings (kept for the report). bed : the drone/bell bed (None: silent; drone features
    are still synthesised). audio : label of what the music phases hear ("" none), for the report.
    """

    def __init__(self, plan: SessionPlan, session: Session, *, person: Person = Person(),
                 bed: SoundBed | None = None, clock: Callable[[], float] = time.monotonic, audio: str = ""):
        self.plan = plan
        self.session = session
        self.timeline = Timeline(plan)
        self.person = Person(person.intention.strip(), person.calm_before, person.calm_after)
        self.bed = bed
        self.audio = audio
        self.elapsed_s = 0.0
        self.recorder = Recorder(plan)
        self.started_at = datetime.now().isoformat(timespec="seconds")
        self._clock = clock
        self._last_clock = clock()  # the session starts now
        self._stopped = False
        self._pacer = BreathPacer()
        self._breath = REST
        self._phase_index = -1
        self._cue_spoken: tuple[int, float] | None = None
        self._applied = np.array(self._target_vector(self.timeline.targets(0.0)))

    @property
    def intention(self) -> str:
        return self.person.intention

    @property
    def finished(self) -> bool:
        return self._stopped or self.elapsed_s >= self.timeline.duration_s

    # -- controls ------------------------------------------------------------------------------
    def toggle_pause(self) -> bool:
        """Pause or resume (the field freezes, the timeline and breath stop); returns paused."""
        self.session.paused = not self.session.paused
        return self.session.paused

    def skip(self) -> None:
        """Jump to the next phase (values glide there over about a second); past the last: end."""
        i = self.timeline.phase_index(self.elapsed_s)
        if i + 1 < len(self.plan.phases):
            self.elapsed_s = self.timeline.starts_s[i + 1]
        else:
            self.end()

    def end(self) -> None:
        """Finish now: the report covers what ran, marked as ended early."""
        if not self.finished:
            self._stopped = True
            self.recorder.finish(early=True)

    def rate_after(self, calm: int | None) -> None:
        """The calm rating given after the session (1..5, None: skipped)."""
        self.person = Person(self.person.intention, self.person.calm_before, calm)

    # -- the frame -----------------------------------------------------------------------------
    @staticmethod
    def _target_vector(targets) -> list[float]:
        return [*targets.kernel, targets.injection, targets.temperature]

    def _apply(self, targets, dt: float) -> None:
        """Ease the applied values toward the timeline's and set them as the session's bases.
        The phase's temperature is the total the field feels: the annealer's own heat is
        topped up by the base temperature, never exceeded."""
        alpha = 1.0 - math.exp(-dt / FOLLOW_S)
        self._applied += (np.array(self._target_vector(targets)) - self._applied) * alpha
        values = dict(zip(COUPLINGS + ("injection", "temperature"), self._applied.tolist()))
        values["temperature"] = max(values["temperature"] - self.session.annealer.temperature, 0.0)
        self.session.set_bases(self.session.base.replace(**values))

    def _features(self, energy: str, music: FeatureSnapshot, level: float) -> FeatureSnapshot:
        """The field's input: the music's features, the drone's at ``level`` (fade × the cooling's
        drive), or silence."""
        if energy == "music":
            return music
        if energy == "drone":
            return drone_features(self.elapsed_s, self._breath, level=level)
        return SILENCE

    def _tick(self) -> float:
        """Seconds on the clock since the previous frame (for the first: since the driver was made)."""
        now = self._clock()
        dt = max(now - self._last_clock, 0.0)
        self._last_clock = now
        return dt

    def frame(self, music: FeatureSnapshot) -> tuple[FrameState, SessionView]:
        """One frame at the clock's time; ``music`` is the latest snapshot of the user's audio."""
        dt = self._tick()
        paused = self.session.paused
        t = min(self.elapsed_s, self.timeline.duration_s)
        targets = self.timeline.targets(t)
        phase = self.plan.phases[targets.phase_index]
        if targets.phase_index != self._phase_index:
            self._enter_phase(targets.phase_index, t)
        if not paused:
            self._breath = self._pacer.advance(dt, rate_per_min=phase.breath_rate, inhale=phase.inhale,
                                               exhale=phase.exhale)
        fade = self.timeline.fade(t)
        self._apply(targets, 0.0 if paused else dt)
        state = self.session.advance(self._features(targets.energy, music, fade * targets.drive), dt)
        if self.bed is not None:  # the bed is heard delay_s late: it gets the breath that far ahead
            heard = self._pacer.ahead(self.bed.delay_s) if self._breath.active else REST
            self.bed.update(level=fade, breath=heard.value, drone=targets.energy == "drone", paused=paused)
        cue, cue_opacity = self.timeline.cue(t)
        self._speak_cue(targets.phase_index, cue)
        if not paused and not self.finished:
            self.recorder.observe(t, state, cooling=phase.cooling is not None,
                                  dt_s=min(dt, self.timeline.duration_s - t))
            self.elapsed_s += dt
            if self.elapsed_s >= self.timeline.duration_s:
                self.recorder.finish(early=False)
        view = SessionView(
            phase_name=phase.name, phase_index=targets.phase_index, time_s=t,
            time_left_s=max(self.timeline.duration_s - t, 0.0), fade=fade, breath=self._breath,
            cue=cue, cue_opacity=cue_opacity, intention=self.intention,
            intention_opacity=self.timeline.intention_opacity(t) if self.intention else 0.0,
            palette_from=targets.palette_from, palette_to=targets.palette_to, palette_mix=targets.palette_mix,
            lightness=targets.lightness, warmth=targets.warmth, finished=self.finished)
        return state, view

    def _enter_phase(self, index: int, t_s: float) -> None:
        log.info("session phase %d/%d: %s", index + 1, len(self.plan.phases), self.plan.phases[index].name)
        if self._phase_index >= 0 and self.bed is not None:
            self.bed.bell()
        self._phase_index = index
        self.recorder.enter(index, t_s)

    def _speak_cue(self, phase_index: int, cue: str) -> None:
        if cue and self.bed is not None and self._cue_spoken != (phase_index, cue):
            self._cue_spoken = (phase_index, cue)
            self.bed.speak(cue)

    def report(self) -> SessionReport:
        """The figures of what ran, running the quench comparisons first (for the time after the
        cooling, and for the same total time as the cooling and what followed)."""
        results = []
        for frames in (quench_frames(self.recorder, fps=FPS), equal_time_frames(self.recorder, fps=FPS)):
            quench = quench_from(self.session, self.recorder.hot_state, kernel=self.plan.phases[-1].kernel,
                                 frames=frames, dt=1.0 / FPS) if frames > 0 else None
            results.append((quench, frames / FPS if frames else None))
        (quench, quench_run_s), (equal, equal_run_s) = results
        return summarise(self.recorder, quenches=Quenches(quench, quench_run_s, equal, equal_run_s),
                         person=self.person, started_at=self.started_at, audio=self.audio)


Music = AudioEngine | LockstepAudio | NoAudio


def run_headless(plan: SessionPlan, *, fast: bool, person: Person = Person(), size: tuple[int, int] | None = None,
                 seed: int = 0, bed: SoundBed | None = None, music: Music | None = None,
                 music_label: str = "") -> tuple[SessionReport, dict[str, list[float]]]:
    """Run a whole session without a window; returns its report and 1 Hz series. ``fast``: accelerated
    lockstep (a ``StepClock`` moved 1/60 s a frame) on a small grid unless ``size`` is given;
    otherwise the wall clock, about 60 frames a second. ``music``: what the "music" phases hear
    (``engine.audio.engine.open_audio``; a lockstep file is fed one frame's samples a frame),
    named ``music_label`` in the report; None: silence. A fast run steps its small grid on one
    thread: waking a second costs more than it gives there."""
    session = Session.from_preset(plan.preset, size=size or (FAST_SIZE if fast else None), seed=seed,
                                  deterministic=True)  # headless: the same inputs give the same report
    music = music or NoAudio()
    threads = numba.get_num_threads()
    if fast:
        numba.set_num_threads(1)
    clock = StepClock() if fast else time.monotonic
    try:
        driver = SessionDriver(plan, session, person=person, bed=bed, clock=clock, audio=music_label)
        dt = 1.0 / FPS
        next_frame = time.monotonic()
        while not driver.finished:
            with interrupts_deferred():  # Ctrl-C / SIGTERM end the session between frames
                music.advance(dt)
                if fast:
                    clock.advance(dt)
                driver.frame(music.latest())
            if not fast:  # about FPS frames a second; a late frame is not made up for by a burst
                next_frame = max(next_frame + dt, time.monotonic())
                time.sleep(max(next_frame - time.monotonic(), 0.0))
        return driver.report(), driver.recorder.series
    finally:
        numba.set_num_threads(threads)
        session.close()
