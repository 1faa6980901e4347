"""The frame loop: wires presets, the modulator, the field and the display together.

The render loop owns the field, the modulator and the display. Each frame it reads the latest
feature snapshot (never waits for audio), updates the live parameters, steps the field a fixed
number of substeps, colourises it straight into the window and draws the HUD.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pygame

from visualizer import presets
from visualizer.audio.demo import demo_paths
from visualizer.audio.engine import AudioChoice, AudioEngine, LockstepAudio, NoAudio
from visualizer.audio.features import FeatureSnapshot
from visualizer.modulation import TARGETS, Modulator, Route
from visualizer.render.colour import build_lut
from visualizer.render.display import DEFAULT_WINDOW, Display
from visualizer.render.hud import Hud, HudView, SliderView
from visualizer.sim import Field
from visualizer.sim.annealing import Annealer
from visualizer.sim.harmonics import INJECTION_MODES, Harmonics, HarmonicsCache, Injector
from visualizer.sim.measures import Measures, measure

log = logging.getLogger(__name__)

FPS = 60
SLIDERS = (("K1", "k1"), ("K2", "k2"), ("K3", "k3"), ("K4", "k4"), ("K_SW", "k_sw"))
SLIDER_STEP = 1.0
MESSAGE_SECONDS = 4.0
BEAT_FLASH_S = 0.15
METER_RELEASE = 0.85  # HUD meters fall by this factor per frame so a flickering level stays readable
MEASURE_EVERY = 10  # frames between measurements (6 per second at 60 fps, ~3.5 ms each at 256²)
HISTORY = 72  # samples in the HUD's sparklines (12 s)


def open_audio(choice: AudioChoice, *, headless: bool):
    """The audio engine for ``choice``; headless file/demo runs analyse in lockstep with frames."""
    if choice.kind == "none":
        return NoAudio()
    path = demo_paths()[0] if choice.kind == "demo" else choice.path
    if headless and choice.kind in ("demo", "file"):
        return LockstepAudio(path, loop=choice.kind == "demo")
    return AudioEngine(AudioChoice(choice.kind, path, choice.device))


@dataclass(frozen=True)
class AppOptions:
    """What the command line chose.

    preset : preset name or path. size : grid (height, width) overriding the preset's.
    frames : stop after this many frames (None = run until quit). screenshot : save the last
    frame there. headless : render offscreen on a fixed 1/60 s clock, as fast as possible.
    """

    preset: str = "nn-dmt"
    size: tuple[int, int] | None = None
    seed: int = 0
    fullscreen: bool = False
    display: int = 0
    window: tuple[int, int] = DEFAULT_WINDOW
    headless: bool = False
    frames: int | None = None
    screenshot: Path | None = None
    audio: AudioChoice = AudioChoice()
    profile: bool = False  # record per-stage frame times in App.stages (for the benchmark)


class StageClock:
    """Per-stage wall times of each frame, kept only when enabled (seconds, lists per stage)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.samples: dict[str, list[float]] = {}
        self._t = 0.0

    def start(self) -> None:
        if self.enabled:
            self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.enabled:
            now = time.perf_counter()
            self.samples.setdefault(stage, []).append(now - self._t)
            self._t = now


def pictures_dir() -> Path:
    """Where the S key saves screenshots: $XDG_PICTURES_DIR or ~/Pictures, in a visualizer folder."""
    return Path(os.environ.get("XDG_PICTURES_DIR", Path.home() / "Pictures")) / "visualizer"


class App:
    """The running visualizer. ``run()`` loops; ``frame()`` advances exactly one frame."""

    def __init__(self, options: AppOptions):
        self.options = options
        first = presets.load(presets.resolve(options.preset))
        self.playlist = presets.discover()
        self.display = Display(size=options.window, fullscreen=options.fullscreen,
                               display_index=options.display, caption="visualizer")
        self.hud = Hud()
        self._splash("compiling kernels… (first start only)")
        self.seed = options.seed
        self.paused = False
        self.hud_visible = True
        self.selected = 0
        self.running = True
        self.frame_count = 0
        self.sim_time_s = 0.0
        self.audio = open_audio(options.audio, headless=options.headless)
        self.features: FeatureSnapshot = self.audio.latest()
        self._beats_seen = 0
        self._meters = np.zeros(4)
        self._beat_flash_until = 0.0
        self._message = ("", 0.0)
        self._dragging: int | None = None
        self._fps = 0.0
        self._last_frame_s = time.perf_counter()
        self.harmonics_cache = HarmonicsCache()
        self.show_measures = True
        self.measures: Measures | None = None
        self.history = {name: deque(maxlen=HISTORY) for name in ("E", "T", "R")}
        self.stages = StageClock(options.profile)
        self.use_preset(first)
        self.update_measures()
        self._draw_frame()  # compiles (or loads from cache) every kernel before the loop starts

    # -- presets ---------------------------------------------------------------------------
    def use_preset(self, preset: presets.Preset) -> None:
        """Switch to ``preset``: new field, palette, slider bases and sweeps."""
        self.preset = preset
        self.field = Field(preset.field_config(seed=self.seed, size=self.options.size))
        self.base = {"k1": preset.k[0], "k2": preset.k[1], "k3": preset.k[2], "k4": preset.k[3],
                     "k_sw": preset.k_sw, "speed": 1.0, "small_world_links": float(preset.small_world_links),
                     "lightness": preset.lightness, "injection": 0.0, "temperature": 0.0}
        self._music = self.music_present()
        self.modulator = Modulator(self._routes())
        self.live = self.modulator.update(self.base, self.features, time_s=0.0, dt_s=0.0)
        self.annealer = Annealer(preset.annealing)
        self.injection_mode = preset.injection_mode
        self._injector: Injector | None = None
        self._lut_key = None
        self._update_palette()
        log.info("preset: %s (%s)", preset.name, preset.path)

    def music_present(self) -> bool:
        """Whether an audio source is delivering (silence included); not with --no-audio, before
        a device opens, or while it is missing or lost."""
        return not isinstance(self.audio, NoAudio) and self.features.status not in ("none", "lost", "starting")

    def _routes(self) -> list[Route]:
        """The preset's music routes; without music its swept constants follow a slow LFO."""
        if self._music:
            return list(self.preset.routes)
        return [Route(source="lfo", target=name, lo=lo, hi=hi, period_s=self.preset.sweep_period_s)
                for name, (lo, hi) in self.preset.sweeps.items()]

    def harmonics(self) -> Harmonics:
        """The field's harmonics (lattice modes until the graph modes are ready)."""
        c = self.field.config
        return self.harmonics_cache.get(height=c.height, width=c.width, neighborhood=c.neighborhood,
                                        boundary=c.boundary, count=self.preset.injection_modes,
                                        small_world=self.field.small_world)

    def injector(self) -> Injector:
        harmonics = self.harmonics()
        if self._injector is None or self._injector.harmonics is not harmonics:
            p = self.preset
            self._injector = Injector(harmonics, tilt=p.injection_tilt, rate_hz=p.injection_rate_hz,
                                      blobs=p.injection_blobs, blob_radius=p.injection_blob_radius, seed=self.seed)
        return self._injector

    def cycle_preset(self, direction: int) -> None:
        """Next (+1) or previous (−1) preset; broken ones are skipped with a HUD message."""
        self.playlist = presets.discover()
        paths = [p.resolve() for p in self.playlist]
        here = self.preset.path.resolve()
        start = paths.index(here) if here in paths else -1
        skipped = []
        for step in range(1, len(paths) + 1):
            path = self.playlist[(start + direction * step) % len(paths)]
            try:
                self.use_preset(presets.load(path))
            except presets.PresetError as e:
                log.warning("skipping preset: %s", e)
                skipped.append(path.name)
                continue
            if skipped:
                self.say(f"skipped broken preset {', '.join(skipped)} (see log)")
            return

    def _update_palette(self) -> None:
        chroma = self.live.get("chroma")
        key = (self.preset.palette, round(self.live["lightness"]), None if chroma is None else round(chroma))
        if key != self._lut_key:
            self._lut_key = key
            self.display.set_palette(build_lut(self.preset.palette, lightness=key[1], chroma=key[2]))

    # -- user input --------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Show ``message`` on the HUD for a few seconds (and in the log)."""
        log.info("%s", message)
        self._message = (message, time.monotonic() + MESSAGE_SECONDS)

    def _slider_views(self) -> tuple[SliderView, ...]:
        return tuple(SliderView(label, self.base[key], self.live[key], *TARGETS[key]) for label, key in SLIDERS)

    def _nudge(self, index: int, delta: float) -> None:
        key = SLIDERS[index][1]
        lo, hi = TARGETS[key]
        self.base[key] = min(max(round(self.base[key] + delta, 3), lo), hi)

    def screenshot(self, path: Path | None = None) -> Path:
        path = path or pictures_dir() / f"visualizer-{datetime.now():%Y%m%d-%H%M%S}.png"
        self.display.save_screenshot(path)
        print(f"screenshot saved: {path}", flush=True)
        self.say(f"screenshot: {path}")
        return path

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.VIDEORESIZE:
            self.display.resized((event.w, event.h))
        elif event.type == pygame.KEYDOWN:
            self._key(event.key, event.mod)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self.hud_visible:
            self._dragging = self.hud.slider_at(event.pos)
            self._drag(event.pos)
        elif event.type == pygame.MOUSEMOTION and self._dragging is not None:
            self._drag(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP:
            self._dragging = None

    def _drag(self, pos: tuple[int, int]) -> None:
        if self._dragging is not None:
            self.selected = self._dragging
            view = self._slider_views()[self._dragging]
            self.base[SLIDERS[self._dragging][1]] = round(self.hud.value_at(self._dragging, pos[0], view), 2)

    def _key(self, key: int, mod: int) -> None:
        shift = bool(mod & pygame.KMOD_SHIFT)
        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.running = False
        elif key == pygame.K_f:
            self.display.toggle_fullscreen()
        elif key == pygame.K_h:
            self.hud_visible = not self.hud_visible
        elif key == pygame.K_m:
            self.show_measures = not self.show_measures
        elif key == pygame.K_i:
            self.injection_mode = INJECTION_MODES[(INJECTION_MODES.index(self.injection_mode) + 1) % len(INJECTION_MODES)]
            self.say(f"injection: {self.injection_mode}")
        elif key == pygame.K_SPACE:
            self.paused = not self.paused
        elif key == pygame.K_r:
            self.seed += 1
            self.field.reseed(self.seed)
            self.say(f"reseeded ({self.seed})")
        elif key == pygame.K_s:
            self.screenshot()
        elif key == pygame.K_t:
            if shift:
                self.audio.clear_tap()
                self.say("tap tempo cleared: the beat tracker leads again")
            else:
                self.audio.tap()
        elif key in (pygame.K_n, pygame.K_p):
            self.cycle_preset(+1 if key == pygame.K_n else -1)
        elif key == pygame.K_TAB:
            self.selected = (self.selected + (-1 if shift else 1)) % len(SLIDERS)
        elif key in (pygame.K_UP, pygame.K_DOWN):
            self.selected = (self.selected + (-1 if key == pygame.K_UP else 1)) % len(SLIDERS)
        elif key in (pygame.K_LEFT, pygame.K_RIGHT):
            self._nudge(self.selected, (SLIDER_STEP * 5 if shift else SLIDER_STEP) * (1 if key == pygame.K_RIGHT else -1))

    # -- the frame ---------------------------------------------------------------------------
    def frame(self) -> None:
        """Advance one frame: input, parameters, simulation, drawing."""
        self.stages.start()
        for event in pygame.event.get():
            self.handle(event)
        now = time.perf_counter()
        wall_dt = now - self._last_frame_s
        self._last_frame_s = now
        if wall_dt > 0:
            self._fps = 0.9 * self._fps + 0.1 / wall_dt if self._fps else 1.0 / wall_dt
        frame_dt = 1.0 / FPS
        self.audio.advance(frame_dt)  # lockstep audio analyses here; real-time audio has its own thread
        self.stages.lap("audio (lockstep)")
        self.features = self.audio.latest()
        if self.features.beat_count != self._beats_seen:
            self._beats_seen = self.features.beat_count
            self._beat_flash_until = self.sim_time_s + BEAT_FLASH_S
        levels = np.array([self.features.energy, self.features.bass, self.features.mid, self.features.high])
        self._meters = np.maximum(levels, self._meters * METER_RELEASE)
        if self.music_present() != self._music:  # a device came or went: music routes ↔ LFO sweeps
            self._music = not self._music
            self.modulator = Modulator(self._routes())
        self.stages.lap("input + feature snapshot")
        self.live = self.modulator.update(self.base, self.features, time_s=self.sim_time_s, dt_s=frame_dt)
        self.field.set_small_world_links(int(round(self.live["small_world_links"])))
        self._update_palette()
        self.stages.lap("modulation")
        if not self.paused:
            self.sim_time_s += frame_dt
            self.simulate(frame_dt)
        if self.frame_count % MEASURE_EVERY == 0:
            self.update_measures()
        self.stages.lap("measures")
        self._draw_frame()
        self.frame_count += 1

    def simulate(self, frame_dt: float) -> None:
        """One frame of physics: energy into the annealer and the harmonics, then the substeps."""
        gain = self.live["injection"]
        self.annealer.update(dt_s=frame_dt, injection=gain)
        forcing = self.injector().forcing(gain=gain, time_s=self.sim_time_s, mode=self.injection_mode) if gain > 0 else None
        scale = self.annealer.coupling_scale
        k = tuple(self.live[name] * scale for name in ("k1", "k2", "k3", "k4"))
        temperature = self.live["temperature"] + self.annealer.temperature
        dt = self.preset.dt * self.live["speed"]
        self.stages.lap("injection + annealing")
        for _ in range(self.preset.substeps):
            self.field.step(dt=dt, k=k, k_sw=self.live["k_sw"] * scale, forcing=forcing, temperature=temperature)
        self.stages.lap("substeps")

    def update_measures(self) -> None:
        self.measures = measure(self.field.theta, self.harmonics(), wrap=self.field.config.boundary == "wrap")
        self.history["E"].append(self.annealer.energy)
        self.history["T"].append(self.annealer.temperature)
        self.history["R"].append(self.measures.order)

    def _draw_frame(self) -> None:
        self.display.draw_field(self.field.theta)
        self.stages.lap("colourise + scale")
        if self.hud_visible:
            message, until = self._message
            f = self.features
            tempo = f"{f.tempo_bpm:5.1f} BPM{' (tap)' if f.tap_tempo else ''} conf {f.beat_confidence:.2f}" if f.tempo_bpm else "tempo --"
            self.hud.draw(self.display.canvas, HudView(
                title=f"{self.preset.name}" + ("  [paused]" if self.paused else ""),
                sliders=self._slider_views(), selected=self.selected,
                lines=(f"{self._fps:5.1f} fps   R = {self.measures.order:.3f}   {self.field.shape[0]}×{self.field.shape[1]}",
                       f"audio: {f.status}",
                       f"{f.level_dbfs:6.1f} dBFS   {tempo}   xruns {f.overflows}/{f.underruns}")
                + (self._measure_lines() if self.show_measures else ()),
                strips=self._strips() if self.show_measures else (),
                meters=tuple(zip(("level", "bass", "mid", "high"), self._meters.tolist())) + (("beat", f.beat_phase),),
                beat_flash=max(0.0, (self._beat_flash_until - self.sim_time_s) / BEAT_FLASH_S),
                message=message if time.monotonic() < until else ""))
        self.stages.lap("HUD")
        self.display.present()
        self.stages.lap("present")

    def _measure_lines(self) -> tuple[str, ...]:
        a, m = self.annealer, self.measures
        return (f"E {a.energy:5.2f}  T {a.temperature:4.2f}  {a.phase}  coupling ×{a.coupling_scale:.2f}  {self.injection_mode}",
                f"local {m.local_order:.2f}  patches {m.patches}  anti {m.antiphase:.2f}  coherence {m.coherence:.2f}")

    def _strips(self) -> tuple[tuple[str, tuple[float, ...]], ...]:
        spectrum = tuple(float(np.clip((np.log10(p + 1e-9) + 6.0) / 6.0, 0.0, 1.0)) for p in self.measures.spectrum)
        threshold = max(self.annealer.config.threshold, 1e-9)

        def scaled(values, top):
            return tuple(min(v / top, 1.0) for v in values)
        return (("harmonic spectrum (log power, low to high)", spectrum),
                ("energy E (threshold at half height)", scaled(self.history["E"], 2 * threshold)),
                ("temperature T", scaled(self.history["T"], max(max(self.history["T"], default=0.0), 1e-9))),
                ("order R", tuple(self.history["R"])))

    def _splash(self, text: str) -> None:
        self.display.canvas.fill((0, 0, 0))
        surf = self.hud.font.render(text, True, (220, 220, 220))
        w, h = self.display.size
        self.display.canvas.blit(surf, ((w - surf.get_width()) // 2, (h - surf.get_height()) // 2))
        self.display.present()

    def run(self) -> None:
        clock = pygame.time.Clock()
        try:
            while self.running and (self.options.frames is None or self.frame_count < self.options.frames):
                self.frame()
                if not self.options.headless:
                    clock.tick(FPS)
            if self.options.screenshot is not None:
                self.screenshot(self.options.screenshot)
        finally:
            self.audio.close()
            pygame.quit()
