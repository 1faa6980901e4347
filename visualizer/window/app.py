"""The pygame front end: window(s), keys and mouse → control changes, HUD, screenshots.

Each frame reads the latest feature snapshot (never waits for audio), calls ``Session.advance``
and draws the ``FrameState`` it returns. Everything else lives in the headless Session and the
Stage. With ``output_display`` the field goes alone to that monitor and the HUD to a controls
window (visualizer/windows.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from visualizer.engine import presets
from visualizer.engine.audio.engine import AudioChoice, open_audio
from visualizer.engine.params import COUPLINGS, LATTICE, REGISTRY
from visualizer.engine.session import FrameState, Session
from visualizer.render.flash import WCAG_FLASH_LIMIT
from visualizer.render.layout import grid_for_screen
from visualizer.stage.keys import action_for
from visualizer.stage.stage import Stage, StageOptions
from visualizer.system.heap import frozen_startup_heap
from visualizer.system.paths import pictures_dir
from visualizer.system.signals import interrupt_in, interrupts_deferred
from visualizer.window.display import DEFAULT_WINDOW, ScreenshotError
from visualizer.window.hud import Hud, HudFader, HudView
from visualizer.window.hud_model import HudModel, slider_views
from visualizer.window.lattice_view import DRAG_RAD_PER_PX, draw_lattice_over, warm_up
from visualizer.window.pygame_loader import pygame
from visualizer.window.windows import open_screens

log = logging.getLogger(__name__)

FPS = 60
MOUSE_EVENTS = (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP, pygame.MOUSEMOTION, pygame.MOUSEWHEEL)


@dataclass(frozen=True)
class AppOptions:
    """What the command line chose.

    preset : preset name or path. size : grid (height, width) overriding the preset's.
    frames : stop after this many frames (None = run until quit). screenshot : save the last
    frame there. headless : render offscreen on a fixed 1/60 s clock, as fast as possible (the
    HUD, when shown, does not fade). hud : start with the HUD shown. output_display : the
    monitor for a clean fullscreen output, the controls then in a window of size ``window`` on
    ``display`` (None: one window).
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
    flash_limit: bool = True
    output_display: int | None = None


class App:
    """The running visualizer. ``run()`` loops; ``frame()`` advances exactly one frame."""

    def __init__(self, options: AppOptions):
        self.options = options
        self.display, self.controls = open_screens(
            window=options.window, fullscreen=options.fullscreen, display=options.display,
            output_display=options.output_display, flash_limit=WCAG_FLASH_LIMIT if options.flash_limit else None)
        first = presets.load_preset(options.preset)
        self.hud = self.controls.hud if self.controls else Hud()
        self.hud_model = HudModel()
        screen = self.controls or self.display
        self.hud.splash(screen.canvas, "compiling kernels… (first start only)")
        screen.present()
        size = options.size or grid_for_screen(self.display.size, first.field.height * first.field.width)
        self.session = Session(first, size=size, seed=options.seed)  # loads every engine kernel
        warm_up()  # and the window's lattice view's, before the first frame
        self.audio = open_audio(options.audio, headless=options.headless)
        self.stage = Stage(self.session, options.stage, audio=self.audio, say=self.say,
                           output=lambda: (self.display.size, self.display.canvas.get_shifts()[:3]))
        self.features = self.audio.latest()
        self.hud_visible = options.hud
        self.hud_fader = HudFader(now_s=time.monotonic())
        self.antiphase_view = False
        self.show_measures = True
        self.selected = 0
        self.running = True
        self.frames = 0
        self._dragging: int | None = None
        self._lut_key = None
        self.state = self.session.advance(self.features, 0.0)
        self._draw(self.state)  # compiles (or loads from cache) every kernel before the loop starts

    # -- user input --------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Show ``message`` on the HUD for a few seconds (and in the log)."""
        log.info("%s", message)
        self.hud_model.say(message)

    def screenshot(self, path: Path | None = None) -> Path | None:
        """Save the window as PNG; a failure is a HUD message, never a crash."""
        path = path or pictures_dir() / f"visualizer-{datetime.now():%Y%m%d-%H%M%S}.png"
        try:
            self.display.save_screenshot(path)
        except ScreenshotError as e:
            self.say(str(e))
            return None
        print(f"screenshot saved: {path}", flush=True)
        self.say(f"screenshot: {path}")
        return path

    def handle(self, event: pygame.event.Event) -> None:
        if self.controls is not None:
            self.controls.follow_cursor(event)
            if event.type in MOUSE_EVENTS and not self.controls.owns(event):
                return  # the output takes no mouse input
        if event.type in (pygame.QUIT, pygame.WINDOWCLOSE):
            self.running = False
        elif event.type == pygame.VIDEORESIZE:
            self.display.resized((event.w, event.h))
        elif event.type == pygame.KEYDOWN:
            self.hud_fader.touch(time.monotonic())
            self._key(event.key, bool(event.mod & pygame.KMOD_SHIFT))
        elif event.type == pygame.MOUSEMOTION and not self.options.headless:
            self.hud_fader.touch(time.monotonic())
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._dragging = self.hud.slider_at(event.pos) if self.hud_visible or self.controls else None
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
            value = self.hud.value_at(self._dragging, pos[0], slider_views(self.state, self.sliders)[self._dragging])
            self.session.set_base(self.sliders[self._dragging], round(value, 2))

    def _key(self, key: int, shift: bool) -> None:
        """A key, by its action in the key map (``visualizer.stage.keys``): the window's own here,
        the rest to the stage."""
        name = pygame.key.name(key)
        action = action_for(name, shift=shift)
        s = self.session
        toggles = {"hud": "hud_visible", "measures": "show_measures", "antiphase_view": "antiphase_view"}
        if action == "quit":
            self.running = False
        elif action == "fullscreen":
            self.display.toggle_fullscreen()
        elif action in toggles:
            setattr(self, toggles[action], not getattr(self, toggles[action]))
        elif action == "injection":
            self.say(f"injection: {s.cycle_injection_mode()}")
        elif action == "colour_reference":
            mode = s.toggle_colour_reference()
            self.say("colour: relative to the mean phase" if mode == "mean" else "colour: absolute phase")
        elif action == "reseed":
            s.reseed()
            self.say(f"reseeded ({s.seed})")
        elif action == "screenshot":
            self.screenshot()
        elif action in ("next_preset", "previous_preset"):
            self.stage.cycle_preset(+1 if action == "next_preset" else -1)
        elif action in ("next_slider", "previous_slider"):
            self.selected = (self.selected + (1 if action == "next_slider" else -1)) % len(self.sliders)
        elif action in ("slider_up", "slider_down"):
            name = self.selected_slider
            step = REGISTRY[name].step * (5 if shift else 1) * (1 if action == "slider_up" else -1)
            s.set_base(name, round(s.base.get(name) + step, 3))
        elif action is not None:
            self.stage.key(action, self.selected_slider, number=int(name) if action == "scene" else 0)

    # -- the frame ---------------------------------------------------------------------------
    def frame(self) -> None:
        """Advance one frame: input, audio features, the session, drawing."""
        for event in pygame.event.get():
            self.handle(event)
        self.stage.performance.apply_queued()  # a recording starts before this frame's audio arrives
        self.audio.advance(1.0 / FPS)  # lockstep audio analyses here; real-time audio has its own thread
        self.features = self.audio.latest()
        features = self.stage.before_advance(self.features, 1.0 / FPS)
        self.state = state = self.session.advance(features, 1.0 / FPS)
        self.stage.after_advance(features, state)
        self.hud_model.follow(self.features, state)
        self._draw(state)
        self.frames += 1

    def _draw(self, state: FrameState) -> None:
        lut_rgb, shown = self.stage.lut(state)
        if shown is not self._lut_key:
            self._lut_key = shown
            self.display.set_palette(shown)
        canvas = self.display.canvas
        self.display.draw_field(state.theta, view="antiphase" if self.antiphase_view else state.view,
                                reference=state.reference, time_s=state.time_s,
                                stagger=None if self.antiphase_view else state.stagger)
        if state.lattice is not None:
            draw_lattice_over(canvas, state.lattice, lut_rgb)
        now_s = self.frames / FPS if self.options.headless else time.monotonic()  # the frame clock when headless
        if self.stage.recording is not None:  # the output without the HUD, flash limited
            self.stage.record(self.display.limited_copy(), now_s)
        if self.controls is not None:
            self.controls.draw(canvas, self._hud_view(state), self.stage.status_lines())
        elif self.hud_visible:
            opacity = 1.0 if self.options.headless else self.hud_fader.opacity(now_s)
            self.hud.draw(canvas, self._hud_view(state), opacity=opacity, now_s=now_s)
        self.display.present()

    @property
    def sliders(self) -> tuple[str, ...]:
        """The registry parameters shown as sliders: all in the controls window (it has room), else
        the couplings, and the lattice's too for a preset with one."""
        if self.controls:
            return tuple(REGISTRY)
        return COUPLINGS + LATTICE if self.session.somatic is not None else COUPLINGS

    @property
    def selected_slider(self) -> str:
        """The slider the arrow keys move (the list may have shrunk since it was chosen)."""
        return self.sliders[self.selected % len(self.sliders)]

    def _hud_view(self, state: FrameState) -> HudView:
        if self.stage.show_help:
            return HudView(title="keys", sliders=(), selected=0, lines=tuple(self.stage.help()))
        return self.hud_model.view(state, self.features, selected=self.sliders.index(self.selected_slider),
                                   paused=self.session.paused,
                                   injection_mode=self.session.injection_mode,
                                   status="; ".join(filter(None, (self.session.status, self.stage.status))),
                                   measures=self.show_measures, sliders=self.sliders)

    def run(self) -> None:
        clock = pygame.time.Clock()
        try:
            with frozen_startup_heap():
                while self.running and not self.audio.finished and (self.options.frames is None
                                                                    or self.frames < self.options.frames):
                    with interrupts_deferred():  # Ctrl-C / SIGTERM end the loop between frames
                        self.frame()
                    if not self.options.headless:
                        clock.tick(FPS)
            if self.options.screenshot is not None:
                self.display.save_screenshot(self.options.screenshot)
                print(f"screenshot saved: {self.options.screenshot}", flush=True)
        except BaseException as e:  # Ctrl-C or SIGTERM (visualizer.system.signals): a recording is kept as .partial
            self.close(interrupted=interrupt_in(e) is not None)
            raise
        else:
            self.close()

    def close(self, *, interrupted: bool = False) -> None:
        """Close everything; ``interrupted`` (Ctrl-C / SIGTERM) keeps a running recording as
        ``NAME.partial.mp4``."""
        self.stage.close(interrupted=interrupted)
        self.audio.close()
        self.session.close()
        if self.controls is not None:
            self.controls.close()
        pygame.quit()
