"""The pygame front end: window, keys and mouse → control changes, HUD, screenshots.

Each frame reads the latest feature snapshot (never waits for audio), calls ``Session.advance``
and draws the ``FrameState`` it returns. Everything else lives in the headless Session.
"""

from __future__ import annotations

import logging
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
from visualizer.params import REGISTRY, SLIDERS
from visualizer.paths import pictures_dir
from visualizer.render.display import DEFAULT_WINDOW, Display
from visualizer.render.hud import Hud, HudFader, HudView, SliderView
from visualizer.render.layout import grid_for_screen
from visualizer.render.lattice_view import DRAG_RAD_PER_PX, draw_cessation_veil, draw_lattice, pack_lut
from visualizer.session import MEASURE_EVERY, FrameState, Session
from visualizer.stage import Stage, StageOptions

log = logging.getLogger(__name__)

FPS = 60
MESSAGE_SECONDS = 4.0
BEAT_FLASH_S = 0.15
METER_RELEASE = 0.85  # HUD meters fall by this factor per frame so a flickering level stays readable
HISTORY = 72  # samples in the HUD's sparklines (12 s at one per measurement)


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
    frame there. headless : render offscreen on a fixed 1/60 s clock, as fast as possible (the
    HUD, when shown, does not fade). hud : start with the HUD shown.
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
    hud: bool = True
    stage: StageOptions = StageOptions()


class App:
    """The running visualizer. ``run()`` loops; ``frame()`` advances exactly one frame."""

    def __init__(self, options: AppOptions):
        self.options = options
        first = presets.load(presets.resolve(options.preset))
        self.display = Display(size=options.window, fullscreen=options.fullscreen,
                               display_index=options.display, caption="visualizer")
        self.hud = Hud()
        self._splash("compiling kernels… (first start only)")
        size = options.size or grid_for_screen(self.display.size, first.field.height * first.field.width)
        self.session = Session(first, size=size, seed=options.seed)
        self.audio = open_audio(options.audio, headless=options.headless)
        self.stage = Stage(self.session, options.stage, tap=self.audio.tap, say=self.say)
        self.features = self.audio.latest()
        self.hud_visible = options.hud
        self.hud_fader = HudFader(now_s=time.monotonic())
        self.antiphase_view = False
        self.show_measures = True
        self.selected = 0
        self.running = True
        self._beats_seen = 0
        self._beat_flash_until = 0.0
        self._meters = np.zeros(4)
        self._message = ("", 0.0)
        self._dragging: int | None = None
        self._fps = 0.0
        self._last_frame_s = time.perf_counter()
        self._lut_key = None
        self.history = {name: deque(maxlen=HISTORY) for name in ("E", "T", "R")}
        self.state = self.session.advance(self.features, 0.0)
        self._draw(self.state)  # compiles (or loads from cache) every kernel before the loop starts

    # -- user input --------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Show ``message`` on the HUD for a few seconds (and in the log)."""
        log.info("%s", message)
        self._message = (message, time.monotonic() + MESSAGE_SECONDS)

    def cycle_preset(self, direction: int) -> None:
        """Next (+1) or previous (−1) preset; broken ones are skipped with a HUD message."""
        playlist = presets.discover()
        paths = [p.resolve() for p in playlist]
        here = self.session.preset.path.resolve()
        start = paths.index(here) if here in paths else -1
        skipped = []
        for step in range(1, len(paths) + 1):
            path = playlist[(start + direction * step) % len(paths)]
            try:
                self.session.use_preset(presets.load(path))
            except presets.PresetError as e:
                log.warning("skipping preset: %s", e)
                skipped.append(path.name)
                continue
            if skipped:
                self.say(f"skipped broken preset {', '.join(skipped)} (see log)")
            return

    def screenshot(self, path: Path | None = None) -> Path | None:
        """Save the window as PNG; a failure is a HUD message, never a crash."""
        path = path or pictures_dir() / f"visualizer-{datetime.now():%Y%m%d-%H%M%S}.png"
        try:
            self.display.save_screenshot(path)
        except (OSError, pygame.error) as e:
            self.say(f"screenshot not saved: {path}: {e}")
            return None
        print(f"screenshot saved: {path}", flush=True)
        self.say(f"screenshot: {path}")
        return path

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.VIDEORESIZE:
            self.display.resized((event.w, event.h))
        elif event.type == pygame.KEYDOWN:
            self.hud_fader.touch(time.monotonic())
            self._key(event.key, bool(event.mod & pygame.KMOD_SHIFT))
        elif event.type == pygame.MOUSEMOTION and not self.options.headless:
            self.hud_fader.touch(time.monotonic())
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._dragging = self.hud.slider_at(event.pos) if self.hud_visible else None
            self._drag(event.pos)
        elif event.type == pygame.MOUSEMOTION and self._dragging is not None:
            self._drag(event.pos)
        elif event.type == pygame.MOUSEMOTION and event.buttons[0] and self.state.lattice is not None:
            self.session.rotate_view(DRAG_RAD_PER_PX * event.rel[1], DRAG_RAD_PER_PX * event.rel[0])
        elif event.type == pygame.MOUSEBUTTONUP:
            self._dragging = None

    def _drag(self, pos: tuple[int, int]) -> None:
        if self._dragging is not None:
            self.selected = self._dragging
            value = self.hud.value_at(self._dragging, pos[0], self._slider_views(self.state)[self._dragging])
            self.session.set_base(SLIDERS[self._dragging], round(value, 2))

    def _key(self, key: int, shift: bool) -> None:
        s = self.session
        toggles = {pygame.K_h: "hud_visible", pygame.K_m: "show_measures", pygame.K_v: "antiphase_view"}
        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.running = False
        elif key == pygame.K_f:
            self.display.toggle_fullscreen()
        elif key in toggles:
            setattr(self, toggles[key], not getattr(self, toggles[key]))
        elif key == pygame.K_i:
            self.say(f"injection: {s.cycle_injection_mode()}")
        elif key == pygame.K_SPACE:
            s.paused = not s.paused
        elif key == pygame.K_r:
            s.reseed()
            self.say(f"reseeded ({s.seed})")
        elif key == pygame.K_s:
            self.screenshot()
        elif key == pygame.K_t:
            self.audio.clear_tap() if shift else self.audio.tap()
            if shift:
                self.say("tap tempo cleared: the beat tracker leads again")
        elif key in (pygame.K_n, pygame.K_p):
            self.cycle_preset(+1 if key == pygame.K_n else -1)
        elif key in (pygame.K_TAB, pygame.K_UP, pygame.K_DOWN):
            back = key == pygame.K_UP or (key == pygame.K_TAB and shift)
            self.selected = (self.selected + (-1 if back else 1)) % len(SLIDERS)
        elif key == pygame.K_w:
            self.stage.toggle_recording(self.display.size, self.display.canvas.get_shifts()[:3])
        elif key in (pygame.K_LEFT, pygame.K_RIGHT):
            name = SLIDERS[self.selected]
            step = REGISTRY[name].step * (5 if shift else 1) * (1 if key == pygame.K_RIGHT else -1)
            s.set_base(name, round(s.base.get(name) + step, 3))
        else:
            self.stage.key(pygame.key.name(key), SLIDERS[self.selected])

    # -- the frame ---------------------------------------------------------------------------
    def frame(self) -> None:
        """Advance one frame: input, audio features, the session, drawing."""
        for event in pygame.event.get():
            self.handle(event)
        now = time.perf_counter()
        wall_dt, self._last_frame_s = now - self._last_frame_s, now
        if wall_dt > 0:
            self._fps = 0.9 * self._fps + 0.1 / wall_dt if self._fps else 1.0 / wall_dt
        self.audio.advance(1.0 / FPS)  # lockstep audio analyses here; real-time audio has its own thread
        self.features = self.audio.latest()
        if self.features.beat_count != self._beats_seen:
            self._beats_seen = self.features.beat_count
            self._beat_flash_until = now + BEAT_FLASH_S
        f = self.features
        self._meters = np.maximum(np.array([f.energy, f.bass, f.mid, f.high]), self._meters * METER_RELEASE)
        features = self.stage.before_advance(self.features, 1.0 / FPS)
        self.state = state = self.session.advance(features, 1.0 / FPS)
        self.stage.after_advance(features, state)
        if state.frame % MEASURE_EVERY == 0:
            for name, value in (("E", state.annealing.energy), ("T", state.annealing.temperature),
                                ("R", state.measures.order)):
                self.history[name].append(value)
        self._draw(state)

    def _draw(self, state: FrameState) -> None:
        self._lut_rgb, shown = self.stage.lut(state)
        if shown is not self._lut_key:
            self._lut_key = shown
            self.display.set_palette(shown)
        view = "antiphase" if self.antiphase_view else state.view
        self.display.draw_field(state.theta, view=view, time_s=state.time_s)
        if state.lattice is not None:
            self._draw_lattice(state)
        if self.stage.recorder is not None:
            pixels = pygame.surfarray.pixels2d(self.display.canvas)
            self.stage.record(pixels.T)
            del pixels
        opacity = 1.0 if self.options.headless else self.hud_fader.opacity(time.monotonic())
        if self.hud_visible and opacity > 0:
            self.hud.draw(self.display.canvas, self._hud_view(state), opacity=opacity)
        self.display.present()

    def _draw_lattice(self, state: FrameState) -> None:
        """The somatic lattice over the field; the screen dissolves into one colour at cessation."""
        lattice, canvas = state.lattice, self.display.canvas
        rect = canvas.get_rect()
        packed = pack_lut(canvas, self._lut_rgb)
        draw_lattice(canvas, rect, lattice.positions, lattice.theta, lattice.rotation, packed)
        m = lattice.measures
        if m is not None and m.cessation_active:
            index = int(np.mod(m.mean_phase, 2 * np.pi) / (2 * np.pi) * len(self._lut_rgb)) % len(self._lut_rgb)
            draw_cessation_veil(canvas, rect, tuple(int(v) for v in self._lut_rgb[index]), m.cessation)

    def _slider_views(self, state: FrameState) -> tuple[SliderView, ...]:
        return tuple(SliderView(REGISTRY[n].label, state.base.get(n), state.params.get(n), REGISTRY[n].lo, REGISTRY[n].hi)
                     for n in SLIDERS)

    def _hud_view(self, state: FrameState) -> HudView:
        f, m, a = self.features, state.measures, state.annealing
        message, until = self._message
        if self.stage.show_help:
            return HudView(title="keys", sliders=(), selected=0, lines=tuple(self.stage.help()))
        tempo = f"{f.tempo_bpm:5.1f} BPM{' (tap)' if f.tap_tempo else ''} conf {f.beat_confidence:.2f}" if f.tempo_bpm else "tempo --"
        lines = (f"{self._fps:5.1f} fps   R = {m.order:.3f}   {state.theta.shape[0]}×{state.theta.shape[1]}",
                 f"audio: {f.status}", f"{f.level_dbfs:6.1f} dBFS   {tempo}   xruns {f.overflows}/{f.underruns}")
        if self.show_measures:
            lines += (f"E {a.energy:5.2f}  T {a.temperature:4.2f}  {a.phase}  coupling ×{a.coupling_scale:.2f}  "
                      f"{self.session.injection_mode}",
                      f"local {m.local_order:.2f}  patches {m.patches}  anti {m.antiphase:.2f}  coherence {m.coherence:.2f}")
        return HudView(
            title=state.preset_name + ("  [paused]" if self.session.paused else ""),
            sliders=self._slider_views(state), selected=self.selected, lines=lines,
            strips=self._strips(state) if self.show_measures else (),
            meters=tuple(zip(("level", "bass", "mid", "high"), self._meters.tolist())) + (("beat", f.beat_phase),),
            beat_flash=max(0.0, (self._beat_flash_until - time.perf_counter()) / BEAT_FLASH_S),
            message=message if time.monotonic() < until else "")

    def _strips(self, state: FrameState) -> tuple[tuple[str, tuple[float, ...]], ...]:
        spectrum = tuple(float(np.clip((np.log10(p + 1e-9) + 6.0) / 6.0, 0.0, 1.0)) for p in state.measures.spectrum)
        top_e = 2 * max(state.annealing.threshold, 1e-9)
        top_t = max(max(self.history["T"], default=0.0), 1e-9)
        return (("harmonic spectrum (log power, low to high)", spectrum),
                ("energy E (threshold at half height)", tuple(min(v / top_e, 1.0) for v in self.history["E"])),
                ("temperature T", tuple(v / top_t for v in self.history["T"])),
                ("order R", tuple(self.history["R"])))

    def _splash(self, text: str) -> None:
        self.display.canvas.fill((0, 0, 0))
        surf = self.hud.font.render(text, True, (220, 220, 220))
        w, h = self.display.size
        self.display.canvas.blit(surf, ((w - surf.get_width()) // 2, (h - surf.get_height()) // 2))
        self.display.present()

    def run(self) -> None:
        clock = pygame.time.Clock()
        frames = 0
        try:
            while self.running and (self.options.frames is None or frames < self.options.frames):
                self.frame()
                frames += 1
                if not self.options.headless:
                    clock.tick(FPS)
            if self.options.screenshot is not None:
                self.display.save_screenshot(self.options.screenshot)
                print(f"screenshot saved: {self.options.screenshot}", flush=True)
        finally:
            self.close()

    def close(self) -> None:
        self.stage.close()
        self.audio.close()
        self.session.close()
        pygame.quit()
