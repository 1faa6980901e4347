"""Running a session: the per-frame driver the window uses, and the headless runner.

``SessionDriver.frame(features, dt)`` applies the timeline to a ``Session`` (kernel morph,
injection, temperature), picks the phase's energy input (the music's features, the drone's own,
or silence), advances the field one frame, keeps the report's series and returns the
``FrameState`` with a ``SessionView``: everything the window draws besides the field.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import COUPLINGS
from visualizer.engine.session import FrameState, Session
from visualizer.meditation.breath import REST, BreathPacer, BreathSample
from visualizer.meditation.report import (
    Recorder,
    SessionReport,
    equal_time_frames,
    quench_frames,
    quench_from,
    write_report,
)
from visualizer.meditation.sound import SILENCE, SoundBed, drone_features
from visualizer.meditation.timeline import SessionPlan, Timeline

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


class SessionDriver:
    """Plays ``plan`` on ``session`` frame by frame.

    intention : text the user typed before starting (shown at the start and at the peak).
    bed : the drone/bell bed (None: silent; drone features are still synthesised).
    """

    def __init__(self, plan: SessionPlan, session: Session, *, intention: str = "", bed: SoundBed | None = None):
        self.plan = plan
        self.session = session
        self.timeline = Timeline(plan)
        self.intention = intention.strip()
        self.bed = bed
        self.elapsed_s = 0.0
        self.recorder = Recorder(plan)
        self._pacer = BreathPacer()
        self._breath = REST
        self._phase_index = -1
        self._cue_spoken: tuple[int, float] | None = None
        self._applied = np.array(self._target_vector(self.timeline.targets(0.0)))

    @property
    def finished(self) -> bool:
        return self.elapsed_s >= self.timeline.duration_s

    # -- controls ------------------------------------------------------------------------------
    def toggle_pause(self) -> bool:
        """Pause or resume (the field freezes, the timeline and breath stop); returns paused."""
        self.session.paused = not self.session.paused
        return self.session.paused

    def skip(self) -> None:
        """Jump to the next phase (values glide there over about a second)."""
        i = self.timeline.phase_index(self.elapsed_s)
        self.elapsed_s = self.timeline.starts_s[i + 1] if i + 1 < len(self.plan.phases) else self.timeline.duration_s

    def end(self) -> None:
        """Finish now (the report covers what ran)."""
        self.elapsed_s = self.timeline.duration_s

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

    def frame(self, music: FeatureSnapshot, dt: float) -> tuple[FrameState, SessionView]:
        """One frame of ``dt`` seconds; ``music`` is the latest snapshot of the user's audio."""
        paused = self.session.paused
        t = min(self.elapsed_s, self.timeline.duration_s)
        targets = self.timeline.targets(t)
        phase = self.plan.phases[targets.phase_index]
        if targets.phase_index != self._phase_index:
            self._enter_phase(targets.phase_index)
        if not paused:
            self._breath = self._pacer.advance(dt, rate_per_min=phase.breath_rate, inhale=phase.inhale, exhale=phase.exhale)
        fade = self.timeline.fade(t)
        self._apply(targets, 0.0 if paused else dt)
        state = self.session.advance(self._features(targets.energy, music, fade * targets.drive), dt)
        if self.bed is not None:
            self.bed.update(level=fade, breath=self._breath.value if self._breath.active else 0.5,
                            drone=targets.energy == "drone", paused=paused)
        cue, cue_opacity = self.timeline.cue(t)
        self._speak_cue(targets.phase_index, cue)
        if not paused:
            self.recorder.observe(t, state, cooling=phase.cooling is not None)
            self.elapsed_s += dt
        view = SessionView(
            phase_name=phase.name, phase_index=targets.phase_index, time_s=t,
            time_left_s=max(self.timeline.duration_s - t, 0.0), fade=fade, breath=self._breath,
            cue=cue, cue_opacity=cue_opacity, intention=self.intention,
            intention_opacity=self.timeline.intention_opacity(t) if self.intention else 0.0,
            palette_from=targets.palette_from, palette_to=targets.palette_to, palette_mix=targets.palette_mix,
            lightness=targets.lightness, warmth=targets.warmth, finished=self.finished)
        return state, view

    def _enter_phase(self, index: int) -> None:
        log.info("session phase %d/%d: %s", index + 1, len(self.plan.phases), self.plan.phases[index].name)
        if self._phase_index >= 0 and self.bed is not None:
            self.bed.bell()
        self._phase_index = index

    def _speak_cue(self, phase_index: int, cue: str) -> None:
        if cue and self.bed is not None and self._cue_spoken != (phase_index, cue):
            self._cue_spoken = (phase_index, cue)
            self.bed.speak(cue)

    def report(self, directory: Path) -> SessionReport:
        """Write DIR/report.json and DIR/report.png (running the quench comparisons first: for the
        time after the cooling, and for the same total time as the cooling and what followed)."""
        results = []
        for frames in (quench_frames(self.recorder, fps=FPS), equal_time_frames(self.recorder, fps=FPS)):
            quench = quench_from(self.session, self.recorder.hot_state, kernel=self.plan.phases[-1].kernel,
                                 frames=frames, dt=1.0 / FPS) if frames > 0 else None
            results.append((quench, frames / FPS if frames else None))
        (quench, quench_run_s), (equal, equal_run_s) = results
        return write_report(directory, self.recorder, quench=quench, quench_run_s=quench_run_s,
                            equal_time_quench=equal, equal_time_run_s=equal_run_s, intention=self.intention)


def run_headless(plan: SessionPlan, *, report_dir: Path | None, fast: bool, intention: str = "",
                 size: tuple[int, int] | None = None, seed: int = 0, bed: SoundBed | None = None) -> SessionReport | None:
    """Run a whole session without a window. ``fast``: accelerated lockstep (no waiting for the
    clock) on a small grid unless ``size`` is given; otherwise frames follow the wall clock.
    Phases whose input is "music" hear silence (there is no music headless). A fast run
    steps its small grid on one thread: waking a second costs more than it gives there."""
    session = Session.from_preset(plan.preset, size=size or (FAST_SIZE if fast else None), seed=seed,
                                  deterministic=True)  # headless: the same inputs give the same report
    threads = numba.get_num_threads()
    if fast:
        numba.set_num_threads(1)
    try:
        driver = SessionDriver(plan, session, intention=intention, bed=bed)
        dt = 1.0 / FPS
        started = time.perf_counter()
        while not driver.finished:
            driver.frame(SILENCE, dt)
            if not fast:
                time.sleep(max(0.0, started + driver.elapsed_s - time.perf_counter()))
        return driver.report(report_dir) if report_dir is not None else None
    finally:
        numba.set_num_threads(threads)
        session.close()
