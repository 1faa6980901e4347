"""The meditation window: the field full-screen-calm, no HUD, the breath in the colours, the
intention and cues as soft text, and a minimal overlay (time left, phase, keys) after any key.

Keys: Space pause, → or N skip to the next phase, F fullscreen, Q or Esc end (the report covers
what ran). The screensaver is held off while a session runs.
"""

from __future__ import annotations

import os
import time

from visualizer.engine import presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import Session
from visualizer.meditation.cli import WindowRequest
from visualizer.meditation.look import SessionLook
from visualizer.meditation.runner import SessionDriver, SessionView
from visualizer.meditation.sound import SoundBed
from visualizer.system.heap import frozen_startup_heap

FPS = 60
OVERLAY_S = 4.0
TEXT = (235, 230, 220)


def run_session_window(request: WindowRequest, *, fullscreen: bool = False) -> int:
    """Play ``request``'s session in a window until it ends; returns the exit code."""
    os.environ.setdefault("SDL_VIDEO_ALLOW_SCREENSAVER", "0")
    from visualizer.render.layout import grid_for_screen
    from visualizer.window.display import Display
    from visualizer.window.pygame_loader import pygame

    display = Display(size=(1280, 720), fullscreen=fullscreen, caption=f"visualizer — {request.plan.name}")
    pygame.display.set_allow_screensaver(False)
    pygame.mouse.set_visible(False)
    pygame.font.init()
    big, small = pygame.font.Font(None, 44), pygame.font.Font(None, 26)
    preset = presets.load_preset(request.plan.preset)
    size = grid_for_screen(display.size, preset.field.height * preset.field.width)
    session = Session(preset, size=size, seed=request.seed)
    bed = SoundBed(speak=request.speak)
    driver = SessionDriver(request.plan, session, intention=request.intention, bed=bed)
    look = SessionLook()
    clock = pygame.time.Clock()
    overlay_until = 0.0
    try:
        with frozen_startup_heap():
            while not driver.finished:
                if _handle_input(driver, display):
                    overlay_until = time.monotonic() + OVERLAY_S
                state, view = driver.frame(FeatureSnapshot(status="none"), 1 / FPS)
                display.set_palette(look.lut(view))
                display.draw_field(state.theta, view=state.view, reference=state.reference, time_s=state.time_s,
                                   stagger=state.stagger)
                _draw_words(display.canvas, view, big, small, overlay=time.monotonic() < overlay_until)
                display.present()
                clock.tick(FPS)
        if request.report_dir is not None:
            driver.report(request.report_dir)
            print(f"report: {request.report_dir / 'report.json'}", flush=True)
    finally:
        bed.close()
        session.close()
        pygame.quit()
    return 0


def _handle_input(driver: SessionDriver, display) -> bool:
    """Apply the window's events to the session (quit, keys); True if a key was pressed."""
    from visualizer.window.pygame_loader import pygame

    pressed = False
    for event in pygame.event.get():
        if event.type == pygame.QUIT:
            driver.end()
        elif event.type == pygame.KEYDOWN:
            pressed = True
            if event.key in (pygame.K_q, pygame.K_ESCAPE):
                driver.end()
            elif event.key == pygame.K_SPACE:
                driver.toggle_pause()
            elif event.key in (pygame.K_RIGHT, pygame.K_n):
                driver.skip()
            elif event.key == pygame.K_f:
                display.toggle_fullscreen()
    return pressed


def _draw_words(canvas, view: SessionView, big, small, *, overlay: bool) -> None:
    """The intention (centre), the cue (lower third), the breath word (faint) and the overlay."""
    w, h = canvas.get_size()

    def text(font, words: str, opacity: float, y: int) -> None:
        if words and opacity > 0.01:
            surface = font.render(words, True, TEXT)
            surface.set_alpha(round(255 * min(opacity, 1.0) * view.fade))
            canvas.blit(surface, ((w - surface.get_width()) // 2, y))
    text(big, view.intention, view.intention_opacity, h // 2 - 22)
    text(small, view.cue, view.cue_opacity, 2 * h // 3)
    text(small, view.breath.word, 0.25, h - 60)
    if overlay:
        minutes, seconds = divmod(int(view.time_left_s), 60)
        text(small, f"{view.phase_name} · {minutes}:{seconds:02d} left · Space pause · → skip · Q end", 0.8, 24)
