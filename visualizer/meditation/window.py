"""The meditation window: the field full-screen-calm, no HUD, the breath in the colours and in a
pacer ring, the intention and cues as words on a soft backdrop, an optional timer.

Before the session the window asks how calm the person feels (1..5, any other key skips), and
again after; a rating given by flag is not asked. The session runs on the wall clock: a slow
frame never slows it down. The music phases hear ``request.audio`` through the main app's audio
engine. At the end the session goes into the history and, if asked, the report is written.

Keys: Space pause, → or N skip to the next phase, T timer on/off, F fullscreen, Q or Esc end
(the report covers what ran). Any key shows the keys for a few seconds. The screensaver is held
off while a session runs.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

from visualizer.engine import presets
from visualizer.engine.audio.engine import NoAudio, open_audio
from visualizer.engine.session import Session
from visualizer.meditation.cli import WindowRequest, audio_label, keep
from visualizer.meditation.look import SessionLook
from visualizer.meditation.report import Person
from visualizer.meditation.runner import SessionDriver, SessionView
from visualizer.meditation.sound import SoundBed
from visualizer.meditation.words import Words
from visualizer.system.heap import frozen_startup_heap
from visualizer.system.signals import interrupts_deferred

FPS = 60
OVERLAY_S = 4.0
ASK_S = 60.0  # an unanswered question is skipped after this long
PACER_RGB = (240, 236, 226)

# called after each frame is drawn, before it is shown: (the picture, what the session shows)
Observer = Callable[[object, SessionView], None]


def run_session_window(request: WindowRequest, *, fullscreen: bool = False, clock: Callable[[], float] | None = None,
                       observe: Observer | None = None, bed: SoundBed | None = None) -> int:
    """Play ``request``'s session in a window until it ends; returns the exit code. ``clock``:
    the session's clock (s; default the wall clock); ``observe``: see ``Observer`` (tests, stills);
    ``bed``: the sound bed to play through (closed at the end; default a new one), so a caller
    can read its underflow counts afterwards (``devtools.drone_gaps``)."""
    os.environ.setdefault("SDL_VIDEO_ALLOW_SCREENSAVER", "0")
    from visualizer.render.layout import grid_for_screen
    from visualizer.window.display import Display
    from visualizer.window.pygame_loader import pygame

    display = Display(size=(1280, 720), fullscreen=fullscreen, caption=f"visualizer - {request.plan.name}")
    pygame.display.set_allow_screensaver(False)
    pygame.mouse.set_visible(False)
    words = Words(display.size[1])
    preset = presets.load_preset(request.plan.preset)
    size = grid_for_screen(display.size, preset.field.height * preset.field.width)
    session = Session(preset, size=size, seed=request.seed)
    audio = None
    try:
        person = request.person
        if request.ask and person.calm_before is None:
            person = Person(person.intention, ask_calm(display, words, "How calm do you feel right now?"),
                            person.calm_after)
        bed = bed or SoundBed(speak=request.speak)
        audio = NoAudio() if request.audio.kind == "none" else open_audio(request.audio, headless=False)
        driver = SessionDriver(request.plan, session, person=person, bed=bed, clock=clock or time.monotonic,
                               audio=audio_label(request.audio))
        _play(driver, display, words, audio, timer=request.timer, observe=observe)
        bed.close()
        if request.ask and person.calm_after is None:
            driver.rate_after(ask_calm(display, words, "How calm do you feel now?"))
        keep(driver.report(), driver.recorder.series, report_dir=request.report_dir,
             keep_history=request.keep_history)
    finally:
        if bed is not None:
            bed.close()
        if audio is not None:
            audio.close()
        session.close()
        pygame.quit()
    return 0


def _play(driver: SessionDriver, display, words: Words, audio, *, timer: bool, observe: Observer | None) -> None:
    """The frame loop, until the session ends or the person ends it."""
    from visualizer.window.pygame_loader import pygame

    look = SessionLook()
    tick = pygame.time.Clock()
    overlay_until = 0.0
    show_timer = [timer]
    with frozen_startup_heap():
        while not driver.finished:
            with interrupts_deferred():  # Ctrl-C / SIGTERM end the session between frames
                if _handle_input(driver, display, show_timer):
                    overlay_until = time.monotonic() + OVERLAY_S
                state, view = driver.frame(audio.latest())
                display.set_palette(look.lut(view))
                display.draw_field(state.theta, view=state.view, reference=state.reference, time_s=state.time_s,
                                   stagger=state.stagger)
                draw_words(display.canvas, view, words, timer=show_timer[0], keys=time.monotonic() < overlay_until)
                if observe is not None:
                    observe(display.canvas, view)
                display.present()
            tick.tick(FPS)


def _handle_input(driver: SessionDriver, display, show_timer: list[bool]) -> bool:
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
            elif event.key == pygame.K_t:
                show_timer[0] = not show_timer[0]
            elif event.key == pygame.K_f:
                display.toggle_fullscreen()
    return pressed


def ask_calm(display, words: Words, question: str) -> int | None:
    """Ask ``question`` on a dark screen; 1..5 from the keys, None if any other key (or nothing
    for ``ASK_S``, or closing the window) skips it."""
    from visualizer.window.pygame_loader import pygame

    canvas = display.canvas
    w, h = canvas.get_size()
    tick = pygame.time.Clock()
    deadline = time.monotonic() + ASK_S
    digits = {getattr(pygame, f"K_{n}"): n for n in range(1, 6)} | {getattr(pygame, f"K_KP{n}"): n for n in range(1, 6)}
    while time.monotonic() < deadline:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return None
            if event.type == pygame.KEYDOWN:
                return digits.get(event.key)
        canvas.fill((12, 10, 14))
        bottom = words.draw(canvas, question, size="big", centre_x=w // 2, top=h // 2 - h // 8, opacity=1.0,
                            backdrop=False)
        words.draw(canvas, "1 restless   2   3   4   5 calm        any other key: skip", size="small",
                   centre_x=w // 2, top=bottom + h // 24, opacity=0.8, backdrop=False)
        display.present()
        tick.tick(20)
    return None


def draw_words(canvas, view: SessionView, words: Words, *, timer: bool, keys: bool) -> None:
    """The intention (centre), the cue (lower third), the breath pacer (bottom), the timer (top
    right, when on) and the keys (top, after a key press)."""
    w, h = canvas.get_size()
    fade = view.fade
    words.draw(canvas, view.intention, size="big", centre_x=w // 2, top=h // 2 - h // 16,
               opacity=view.intention_opacity * fade)
    words.draw(canvas, view.cue, size="cue", centre_x=w // 2, top=2 * h // 3, opacity=view.cue_opacity * fade)
    if view.breath.active:
        draw_pacer(canvas, view, words)
    if timer or keys:
        minutes, seconds = divmod(math.ceil(view.time_left_s), 60)
        words.draw(canvas, f"{view.phase_name}  {minutes}:{seconds:02d} left", size="small",
                   centre_x=w - w // 8, top=h // 30, opacity=0.85)
    if keys:
        words.draw(canvas, "Space pause   N next phase   T timer   Q end", size="small", centre_x=w // 2,
                   top=h // 30, opacity=0.85)


def draw_pacer(canvas, view: SessionView, words: Words) -> None:
    """The breath pacer: a ring near the bottom that widens as you breathe in and narrows as you
    breathe out, around a steady inner ring, with the word under it."""
    from visualizer.window.pygame_loader import pygame

    w, h = canvas.get_size()
    small, large = h // 40, h // 14
    radius = round(small + (large - small) * view.breath.value)
    centre = (w // 2, h - large - h // 12)
    alpha = round(255 * 0.75 * view.fade)
    layer = pygame.Surface((2 * large + 8, 2 * large + 8), pygame.SRCALPHA)
    c = layer.get_width() // 2
    pygame.draw.circle(layer, (0, 0, 0, 90), (c, c), large + 3)  # a soft dark disc: the ring reads on any colour
    pygame.draw.circle(layer, (*PACER_RGB, 70), (c, c), small, width=2)
    pygame.draw.circle(layer, (*PACER_RGB, 255), (c, c), radius, width=max(3, h // 240))
    layer.set_alpha(alpha)
    canvas.blit(layer, (centre[0] - c, centre[1] - c))
    word = "breathe in" if view.breath.word == "in" else "breathe out"
    words.draw(canvas, word, size="small", centre_x=centre[0], top=centre[1] + large + h // 90,
               opacity=0.8 * view.fade)
