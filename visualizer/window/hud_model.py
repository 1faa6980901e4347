"""What the HUD shows, frame by frame: level meters with a slow release, the beat dot, sparklines of
E, T and R, messages, and the lines of text — built from the FrameState and the features. The HUD
(render/hud.py) only draws it.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import COUPLINGS, REGISTRY
from visualizer.engine.session import MEASURE_EVERY, FrameState
from visualizer.engine.sim.metric_sharing import SomaticMeasures
from visualizer.window.hud import HudView, SliderView

MESSAGE_SECONDS = 4.0
BEAT_FLASH_S = 0.15
METER_RELEASE = 0.85  # meters fall by this factor per frame so a flickering level stays readable
HISTORY = 72  # samples in the sparklines (12 s at one per measurement)


class HudModel:
    """Follows the frames and builds the ``HudView``; ``say`` shows a message for a few seconds."""

    def __init__(self) -> None:
        self.fps = 0.0
        self.history = {name: deque(maxlen=HISTORY) for name in ("E", "T", "R")}
        self.message = ("", 0.0)
        self._meters = np.zeros(4)
        self._beats_seen = 0
        self._beat_flash_until = 0.0
        self._last_frame_s = time.perf_counter()

    def say(self, message: str) -> None:
        self.message = (message, time.monotonic() + MESSAGE_SECONDS)

    def follow(self, features: FeatureSnapshot, state: FrameState) -> None:
        """Take in one frame: frame rate, meters, beat dot, sparklines."""
        now = time.perf_counter()
        wall_dt, self._last_frame_s = now - self._last_frame_s, now
        if wall_dt > 0:
            self.fps = 0.9 * self.fps + 0.1 / wall_dt if self.fps else 1.0 / wall_dt
        if features.beat_count != self._beats_seen:
            self._beats_seen = features.beat_count
            self._beat_flash_until = now + BEAT_FLASH_S
        f = features
        self._meters = np.maximum(np.array([f.energy, f.bass, f.mid, f.high]), self._meters * METER_RELEASE)
        if state.frame % MEASURE_EVERY == 0:
            for name, value in (("E", state.annealing.energy), ("T", state.annealing.temperature),
                                ("R", state.measures.order)):
                self.history[name].append(value)

    def view(self, state: FrameState, features: FeatureSnapshot, *, selected: int, paused: bool,
             injection_mode: str, status: str, measures: bool, sliders: tuple[str, ...] = COUPLINGS) -> HudView:
        f, m, a = features, state.measures, state.annealing
        if f.tempo_bpm and f.beat_present:
            tempo = f"{f.tempo_bpm:5.1f} BPM{' (tap)' if f.tap_tempo else ''} beat {f.beat_in_bar}/{f.meter}"
        else:
            tempo = "no beat"
        lines = (f"{self.fps:5.1f} fps   R = {m.order:.3f}   {state.theta.shape[0]}×{state.theta.shape[1]}",
                 f"audio: {f.status}", f"{f.level_dbfs:6.1f} dBFS   {tempo}   xruns {f.overflows}/{f.underruns}")
        if state.lattice is not None and state.lattice.measures is not None:
            lines += (lattice_line(state.lattice.measures),)
        if status:
            lines += (status,)
        if measures:
            lines += (f"E {a.energy:5.2f}  T {a.temperature:4.2f}  {a.phase}  coupling ×{a.coupling_scale:.2f}",
                      f"ω spread ×{a.disorder:.2f}  {injection_mode}",
                      f"local {m.local_order:.2f}  patches {m.patches}  anti {m.antiphase:.2f}  "
                      f"coherence {m.coherence:.2f}")
        message, until = self.message
        return HudView(
            title=state.preset_name + ("  [paused]" if paused else ""),
            sliders=slider_views(state, sliders), selected=selected, lines=lines,
            strips=self._strips(state) if measures else (),
            meters=tuple(zip(("level", "bass", "mid", "high"), self._meters.tolist())) + (("beat", f.beat_phase),),
            beat_flash=max(0.0, (self._beat_flash_until - time.perf_counter()) / BEAT_FLASH_S),
            message=message if time.monotonic() < until else "")

    def _strips(self, state: FrameState) -> tuple[tuple[str, tuple[float, ...]], ...]:
        power = np.asarray(state.measures.spectrum, np.float64)
        spectrum = tuple(np.clip((np.log10(power + 1e-9) + 6.0) / 6.0, 0.0, 1.0).tolist())
        top_e = 2 * max(state.annealing.threshold, 1e-9)
        top_t = max(max(self.history["T"], default=0.0), 1e-9)
        return (("eigenmode spectrum (log power, natural first)", spectrum),
                ("energy E (threshold at half height)", tuple(min(v / top_e, 1.0) for v in self.history["E"])),
                ("temperature T", tuple(v / top_t for v in self.history["T"])),
                ("order R", tuple(self.history["R"])))


def lattice_line(s: SomaticMeasures) -> str:
    """The somatic lattice's measures in one line (each 0..1; see ``engine.sim.metric_sharing``)."""
    return (f"lattice R {s.order_lattice:.2f}  field R {s.order_visual:.2f}  agree {s.agreement:.2f}  "
            f"alike {s.indistinguishability:.2f}  cessation {s.cessation:.2f}"
            + ("  CESSATION" if s.cessation_active else ""))


def slider_views(state: FrameState, names: tuple[str, ...] = COUPLINGS) -> tuple[SliderView, ...]:
    """Sliders for the registry parameters ``names``: base and live value and the range."""
    return tuple(SliderView(REGISTRY[n].label, state.base.get(n), state.params.get(n), REGISTRY[n].lo, REGISTRY[n].hi)
                 for n in names)
