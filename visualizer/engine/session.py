"""The headless engine: everything between the music's features and the pixels that is not a window.

``Session.advance(features, dt)`` runs one frame: modulation routes → live ``Params`` → energy
injection and annealing → the field's substeps → measures on their schedule, and returns an
immutable ``FrameState`` for whichever front end draws it (the pygame window, ``trace``,
``render``, meditation sessions, the benchmark, the tests). Importing this module never imports
pygame.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.engine import presets
from visualizer.engine.audio.features import NO_MUSIC, FeatureSnapshot
from visualizer.engine.link import Kicker, Loudness
from visualizer.engine.measuring import MeasureWorker
from visualizer.engine.modulation import Modulator
from visualizer.engine.params import Params
from visualizer.engine.phase_reference import PhaseReference
from visualizer.engine.sim import Field
from visualizer.engine.sim.annealing import Annealer, AnnealingState
from visualizer.engine.sim.harmonics import Harmonics
from visualizer.engine.sim.injection import INJECTION_MODES, Injector
from visualizer.engine.sim.measures import Measures, correlation_length, measure
from visualizer.engine.sim.metric_sharing import SomaticField, SomaticMeasures
from visualizer.engine.sim.modes_cache import HarmonicsCache
from visualizer.engine.sim.turbulence import Turbulence
from visualizer.engine.sim.warmup import prepare_kernels
from visualizer.system.threads import PARALLEL_FROM_CELLS, kernel_threads

log = logging.getLogger(__name__)

MEASURE_EVERY = 10  # frames between measurements (6 per second at 60 fps)
AUTO_VIEW_ON, AUTO_VIEW_OFF = 0.6, 0.4  # anti-phase share of neighbour pairs that switches the "auto" view
VIEW_HOLD_S = 6.0  # the "auto" view holds a choice at least this long (s)
VIEW_FADE_S = 1.5  # and cross-fades into the next over this long (s): the frame never flips its colours at once
TURBULENCE_EDDIES_ACROSS = 40  # the hot phase's eddies span 1/40 of the field's short side
BURST_DECAY_S = 1.0  # time constant of a "drop" burst
# A frame longer than this (a stalled machine, a bad clock) counts as this long, so decays, the
# annealer and the LFOs never jump; a negative or NaN frame time counts as 0.
MAX_FRAME_DT_S = 0.5


@dataclass(frozen=True)
class LatticeState:
    """The somatic lattice this frame: node ``positions`` (n³, 3), phases ``theta`` (n³,) rad,
    the view ``rotation`` (rx, ry) rad, and the metric-sharing ``measures``."""

    positions: np.ndarray
    theta: np.ndarray
    rotation: tuple[float, float]
    measures: SomaticMeasures


@dataclass(frozen=True)
class FrameState:
    """One frame's result.

    theta : (H, W) float32 phases (rad), a read-only view valid until the next ``advance``.
    params : the live (modulated) value of every parameter. base : the user's base values.
    measures : the latest measures (taken every ``MEASURE_EVERY`` frames).
    annealing : energy E, temperature T, phase, threshold, coupling scale.
    time_s : the session clock (s); it stops while paused. frame : frames advanced.
    palette, view : how the renderer should colour theta. preset_name : the preset's name.
    lattice : the somatic lattice, for presets that have one.
    reference : the phase (rad) drawn as the palette's zero: 0, or the field's tracked mean
        phase while the colour reference is "mean" (the preset's ``[display] reference`` or
        ``toggle_colour_reference``; see ``engine.phase_reference``).
    stagger : the turn (rad) the renderer gives the cells with odd x + y: 0 in the phase view, π
        in the anti-phase view, in between while the "auto" view cross-fades from one to the other.
    """

    theta: np.ndarray
    params: Params
    base: Params
    measures: Measures
    annealing: AnnealingState
    time_s: float
    frame: int
    palette: str
    view: str
    preset_name: str
    lattice: LatticeState | None = None
    reference: float = 0.0
    stagger: float = 0.0


class Session:
    """A preset running headless. Build with ``Session.from_preset`` or ``Session(preset)``.

    size : grid (height, width) overriding the preset's. seed : phases, frequencies and links.
    deterministic : compute eigenmodes and measures on the calling thread, so the same inputs give
        the same run (headless tools); live front ends leave it off so no frame ever waits for
        them (both run in the background), and the first live session of a process loads every
        kernel a frame can call before its first frame (``engine.sim.warmup``).
    """

    def __init__(self, preset: presets.Preset, *, size: tuple[int, int] | None = None, seed: int = 0,
                 deterministic: bool = False):
        if not deterministic:
            prepare_kernels()
        self.size = size
        self.seed = seed
        self.paused = False
        self.time_s = 0.0
        self.frame = 0
        self._clamped_dt = False  # a frame time out of range was already logged
        self.deterministic = deterministic
        self._harmonics_cache = HarmonicsCache(synchronous=deterministic)
        self._measurer: MeasureWorker | None = None
        self.use_preset(preset)

    @classmethod
    def from_preset(cls, name_or_path: str | Path, *, size: tuple[int, int] | None = None, seed: int = 0,
                    deterministic: bool = False) -> Session:
        """A session running the preset named (file stem) or at a path; raises PresetError."""
        return cls(presets.load_preset(str(name_or_path)), size=size, seed=seed, deterministic=deterministic)

    # -- controls -----------------------------------------------------------------------------
    def use_preset(self, preset: presets.Preset, *, keep_phases: bool = False) -> None:
        """Switch to ``preset``: a new field, base values, routes, annealer and injector.

        keep_phases : carry the current phases over to the new field when its grid has the same
            shape (a scene change on the bar: the pattern flows on); otherwise the preset's own start.
        """
        kept = self.field.theta.copy() if keep_phases and getattr(self, "field", None) is not None else None
        self.preset = preset
        config = preset.field if self.size is None else dataclasses.replace(
            preset.field, height=self.size[0], width=self.size[1])
        self.field = Field(dataclasses.replace(config, seed=self.seed))
        self.base = preset.base
        self.injection_mode = preset.injection.mode
        self.annealer = Annealer(preset.annealing)
        self._loudness = Loudness(preset.link)
        self._kicker = Kicker(preset.link, self.field.shape, seed=self.seed)
        self._music: bool | None = None
        self._modulator = Modulator(())
        self.live = self.base
        self._injector: Injector | None = None
        self._burst = 0.0
        # eddies a fixed share of the picture wide (≥ 2.5 cells): at 256² and up, cell-sized eddies read as static;
        # the same grid keeps its noise bank across presets (drawing one is most of a switch's frame: 0.1 s at 256²)
        eddy_cells = max(2.5, min(self.field.shape) / TURBULENCE_EDDIES_ACROSS)
        turbulence = getattr(self, "_turbulence", None)
        if turbulence is not None and (turbulence.shape, turbulence.correlation_cells, turbulence.seed) == (
                self.field.shape, eddy_cells, self.seed):
            turbulence.restart()
        else:
            self._turbulence = Turbulence(self.field.shape, correlation_cells=eddy_cells, seed=self.seed)
        self._forcing = np.zeros(self.field.shape, np.float32)
        self._energy: float | None = None  # measured by the substeps; None: measure before the next frame
        self._strength = 0.0
        lattice = preset.lattice if preset.lattice is not None and preset.lattice.enabled else None
        self.somatic = SomaticField(lattice, self.field.shape, self.seed) if lattice else None
        self.rotation = lattice.rotation if lattice else (0.0, 0.0)
        self._somatic_measures: SomaticMeasures | None = None
        if self.deterministic or getattr(self, "measures", None) is None:
            self.measures = self._measure()  # live, a switch keeps the last ones until the worker's first (~50 ms)
        if not self.deterministic:
            if self._measurer is None or self._measurer.shape != self.field.shape:
                if self._measurer is not None:
                    self._measurer.close()
                self._measurer = MeasureWorker(self.field.shape)
            self._measurer.forget()
        self._view = "phase"
        self._view_held_s = VIEW_HOLD_S  # the first choice is free
        self._stagger = 0.0
        self._reference = PhaseReference(preset.display.reference)
        if kept is not None and kept.shape == self.field.shape:
            self.field.theta = kept
        log.info("preset: %s (%s)", preset.name, preset.path)

    @property
    def shape(self) -> tuple[int, int]:
        """The field's (height, width) in cells."""
        return self.field.shape

    def restore(self, *, theta: np.ndarray | None = None, disorder: float | None = None) -> None:
        """Put the field back into a saved state: ``theta`` float32 (H, W) phases (rad) of this
        grid's shape, and/or the annealer's frequency-disorder share ``disorder`` (0..1)."""
        if theta is not None:
            if theta.shape != self.field.shape:
                raise ValueError(f"phases of shape {theta.shape} do not fit the field's {self.field.shape}")
            self.field.theta = theta
        if disorder is not None:
            self.annealer.disorder = disorder

    def set_base(self, name: str, value: float) -> float:
        """Set one base value (clamped to the registry's range); returns the value set."""
        self.base = self.base.with_value(name, value)
        return self.base.get(name)

    def set_bases(self, params: Params) -> None:
        """Set every base value at once (scene morphs, session timelines)."""
        self.base = params

    def reseed(self, seed: int | None = None) -> None:
        """Fresh phases, frequencies and links (``seed`` None: the next seed)."""
        self.seed = self.seed + 1 if seed is None else seed
        self.field.reseed(self.seed)

    def cycle_injection_mode(self) -> str:
        """Neutral ↔ semantic injection; returns the new mode."""
        self.injection_mode = INJECTION_MODES[(INJECTION_MODES.index(self.injection_mode) + 1) % len(INJECTION_MODES)]
        return self.injection_mode

    def toggle_colour_reference(self) -> str:
        """Colour absolute phase ↔ phase relative to the field's mean (``engine.phase_reference``);
        returns the new mode. Switching to "mean" starts aligned with the field's mean phase."""
        mode = "fixed" if self._reference.mode == "mean" else "mean"
        self._reference = PhaseReference(mode)
        return mode

    def inject_burst(self, energy: float) -> None:
        """A "drop": ``energy`` (rad/s of injection gain, decaying over about a second) of neutral
        energy poured in from now on, on top of the music's."""
        self._burst += max(float(energy), 0.0)

    def rotate_view(self, d_rx: float, d_ry: float) -> None:
        """Turn the somatic lattice's view by (d_rx, d_ry) rad (mouse drags)."""
        self.rotation = (math.remainder(self.rotation[0] + d_rx, 2 * math.pi),
                         math.remainder(self.rotation[1] + d_ry, 2 * math.pi))

    @property
    def status(self) -> str:
        """A background failure to show the user ("" while all is well)."""
        return self._harmonics_cache.status or (self._measurer.status if self._measurer else "")

    @property
    def eigenmodes_busy(self) -> bool:
        """Whether eigenmodes are being computed in the background (lattice modes stand in)."""
        return self._harmonics_cache.busy

    def close(self) -> None:
        """Stop background work (waits briefly for the eigenmode and measure threads)."""
        self._harmonics_cache.close()
        if self._measurer is not None:
            self._measurer.close()

    # -- the frame ----------------------------------------------------------------------------
    def advance(self, features: FeatureSnapshot, dt: float) -> FrameState:
        """One frame of ``dt`` seconds (clamped to 0..``MAX_FRAME_DT_S``) with the music's latest ``features``."""
        dt = self._frame_dt(dt)
        self._follow_music(features.status not in NO_MUSIC)
        loudness = self._loudness.update(features, dt)
        self.live = self._modulator.update(self.base, features, time_s=self.time_s, dt_s=dt, loudness=loudness)
        self.field.set_small_world_links(int(round(self.live.small_world_links)))
        if not self.paused:
            self.time_s += dt
            with kernel_threads(self.field.theta.size >= PARALLEL_FROM_CELLS):  # small fields: no wake-ups
                self._kick(features, loudness, dt)
                if self._kicker.speed_burst > 0.0:
                    self.live = self.live.replace(speed=self.live.speed + self._kicker.speed_burst)  # clamped
                self._simulate(dt)
        if self._energy is not None and not math.isfinite(self._energy):
            self._repair_non_finite()
        self._measure_on_schedule()
        self.frame += 1
        theta = self.field.theta.view()
        theta.flags.writeable = False
        lattice = None if self.somatic is None else LatticeState(
            self.somatic.lattice.positions, self.somatic.lattice.theta, self.rotation, self._somatic_measures)
        view = self._current_view(dt)
        # the colour reference of a field drawn by domains: taken as the anti-phase view's while most
        # neighbour pairs are in anti-phase (a checkerboard's plain mean vector is about zero)
        staggered = view == "antiphase" or (view == "domains" and self.measures.antiphase > 0.5)
        reference = self._reference.update(theta, dt, staggered=staggered)
        return FrameState(lattice=lattice, theta=theta, params=self.live, base=self.base, measures=self.measures,
                          annealing=self.annealer.state, time_s=self.time_s, frame=self.frame,
                          palette=self.preset.display.palette, view=view, preset_name=self.preset.name,
                          reference=reference, stagger=self._stagger)

    def _frame_dt(self, dt: float) -> float:
        """``dt`` clamped to 0..MAX_FRAME_DT_S (NaN: 0); the first clamp is logged."""
        clamped = min(max(dt, 0.0), MAX_FRAME_DT_S) if not math.isnan(dt) else 0.0
        if clamped != dt and not self._clamped_dt:
            self._clamped_dt = True
            log.warning("session: a frame time of %s s counts as %g s (frames are clamped to 0..%g s; "
                        "logged once)", dt, clamped, MAX_FRAME_DT_S)
        return clamped

    def _measure_on_schedule(self) -> None:
        """Every MEASURE_EVERY frames: in the background (live), or on this thread with the
        correlation length five frames after the rest (deterministic), so no frame pays for both."""
        if self._measurer is not None:
            if self.frame % MEASURE_EVERY == 0:
                self._measurer.submit(self.field.theta, self._harmonics(), wrap=self.field.config.boundary == "wrap")
            self.measures = self._measurer.latest or self.measures
        elif self.frame % MEASURE_EVERY == 0:
            self.measures = self._measure(corr_length=self.measures.corr_length)
        elif self.frame % MEASURE_EVERY == MEASURE_EVERY // 2:
            self.measures = dataclasses.replace(self.measures, corr_length=correlation_length(self.field.theta))

    def _current_view(self, dt: float) -> str:
        """The preset's view; "auto" switches to "antiphase" while most neighbour pairs are in
        anti-phase (with hysteresis), so checkerboard order shows as colour instead of grey. A
        switch waits until the last has held VIEW_HOLD_S, and the stagger angle the renderer uses
        turns toward the new view over VIEW_FADE_S."""
        view = self.preset.display.view
        if view != "auto":
            self._view, self._stagger = view, math.pi if view == "antiphase" else 0.0
            return view
        self._view_held_s += dt
        share = self.measures.antiphase
        anti = share > AUTO_VIEW_ON or (self._view == "antiphase" and share > AUTO_VIEW_OFF)
        wanted = "antiphase" if anti else "phase"
        if wanted != self._view and self._view_held_s >= VIEW_HOLD_S:
            self._view, self._view_held_s = wanted, 0.0
        target = math.pi if self._view == "antiphase" else 0.0
        step = math.pi * dt / VIEW_FADE_S
        self._stagger = min(max(target, self._stagger - step), self._stagger + step)  # toward target, ≤ step
        return self._view

    def _follow_music(self, music: bool) -> None:
        """Music routes while a source delivers; the preset's LFO sweeps otherwise."""
        if music != self._music:
            self._music = music
            self._modulator = Modulator(self.preset.routes if music else self.preset.sweep.routes())

    def _kick(self, features: FeatureSnapshot, loudness: float, dt: float) -> None:
        """A beat's or an onset's kick into the field's eigenmodes, from the frame it arrives on (``engine.link``)."""
        delta = self._kicker.step(features, self._harmonics, loudness, dt)
        if delta is not None:
            self.field.displace(delta)
            self._energy = None  # measured again before the annealer reads it

    def _simulate(self, dt: float) -> None:
        """Energy in (music into the eigenmodes, a drop's burst), sinks and turbulence, the
        annealer's verdict on the field's energy, then the substeps."""
        self._burst *= float(np.exp(-dt / BURST_DECAY_S))
        gain = self.live.injection + self._burst
        if self._energy is None:
            self._measure_energy()
        self.annealer.update(dt_s=dt, energy=self._energy, drive=gain, strength=self._strength)
        self.field.set_frequency_spread_share(self.annealer.disorder)
        injector = self._injector_now()
        forcing = self._forcing
        # the sinks drain where semantic energy is aimed (under its blobs); in neutral mode nothing is
        # aimed there, and their pull only drew the same fixed disks into every song's picture
        if self.injection_mode == "semantic":
            injector.sink_pull(self.field.theta, rate=self.preset.injection.sink_rate, out=forcing)
        else:
            forcing.fill(0.0)
        if gain > 0:
            forcing += injector.forcing(gain=gain, time_s=self.time_s, mode=self.injection_mode)
        if self.annealer.temperature > 0:
            forcing += self._turbulence.forcing(self.annealer.temperature, dt)
        if self.somatic is not None:
            c, live = self.somatic.config, self.live
            self.rotate_view(0.0, math.radians(live.spin) * dt)
            # the rings as the registry holds them (routes, sliders, MIDI, OSC); a swept C1 moves with
            # the preset's sweep, shifted by whatever moved it off its base
            rings = live.rings if c.sweep_c1 is None else \
                (c.couplings_at(self.time_s)[0] + live.c1 - self.base.c1,) + live.rings[1:]
            pull, self._somatic_measures = self.somatic.advance(
                self.field.theta, c.dt, couplings=rings, k_x=live.k_x, rotation=self.rotation, alpha=live.metric_blend)
            forcing += pull
        scale = self.annealer.coupling_scale
        k = tuple(value * scale for value in self.live.k)
        step = self.preset.simulation.dt * self.live.speed
        substeps = self.preset.simulation.substeps
        for substep in range(substeps):  # the last substep measures the energy in passing
            energy = self.field.step(dt=step, k=k, k_sw=self.live.k_sw * scale, forcing=forcing,
                                     temperature=self.live.temperature, measure_energy=substep == substeps - 1)
        self._energy, self._strength = energy, self.field.kernel_strength(self.live.k, self.live.k_sw)

    def _measure_energy(self) -> None:
        """The field's energy E and the kernel's strength S under the live kernel, now (the
        substeps measure E as they go; this is for a fresh or repaired field)."""
        self._energy = self.field.energy(k=self.live.k, k_sw=self.live.k_sw)
        self._strength = self.field.kernel_strength(self.live.k, self.live.k_sw)

    def _repair_non_finite(self) -> None:
        """A field that has gone non-finite (NaN or inf forced in; its energy reads NaN) has
        those cells redrawn at random, with a warning, and its energy measured again."""
        theta = self.field.theta
        broken = ~np.isfinite(theta)
        if broken.any():
            log.warning("field: %d non-finite phases redrawn", int(broken.sum()))
            theta[broken] = np.random.default_rng(self.frame).uniform(0, 2 * np.pi, int(broken.sum()))
        self._energy = None

    def _harmonics(self) -> Harmonics:
        c = self.field.config
        return self._harmonics_cache.get(height=c.height, width=c.width, neighborhood=c.neighborhood,
                                         boundary=c.boundary, count=self.preset.injection.modes,
                                         small_world=self.field.small_world, k=self.live.k, k_sw=self.live.k_sw)

    def _injector_now(self) -> Injector:
        harmonics = self._harmonics()
        if self._injector is None:
            self._injector = Injector(harmonics, self.preset.injection, seed=self.seed)
        elif self._injector.harmonics is not harmonics:
            self._injector.use(harmonics)  # new modes, same blobs and sinks: no full rebuild on a frame
        return self._injector

    def measure_now(self) -> Measures:
        """Measure the field's state now (also updates ``measures``)."""
        self.measures = self._measure()
        return self.measures

    def _measure(self, corr_length: float | None = None) -> Measures:
        return measure(self.field.theta, self._harmonics(), wrap=self.field.config.boundary == "wrap",
                       corr_length=corr_length)
