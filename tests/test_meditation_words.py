"""The session window's words are legible: glyphs the font has, and enough contrast against the
backdrop on the brightest colour the field can show."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.meditation.words import Words


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB bytes (..., 3)."""
    c = rgb.astype(float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


@pytest.fixture(scope="module")
def words():
    from visualizer.window.pygame_loader import pygame

    pygame.init()
    yield Words(720)
    pygame.quit()


def test_every_character_drawn_is_one_the_font_has(words):
    text = "Breathe in → hold — and out… “May I be well” · 5:00"
    for size in ("big", "cue", "small"):
        shown = words.legible(text, size)
        assert all(m is not None for ch, m in zip(shown, words._fonts[size].get_metrics(shown)) if not ch.isspace())
        assert "May I be well" in shown and "5:00" in shown  # only what the font lacks is replaced
    assert words.legible("phase → phase") == "phase -> phase"  # the default font has no arrow: no box


@pytest.mark.parametrize("field_rgb", [(255, 255, 255), (246, 162, 120), (159, 166, 99)])
def test_words_on_the_brightest_field_keep_a_4_5_to_1_contrast(words, field_rgb):
    """White (the bound for any session: the breath and the fade only dim), and the brightest
    colours of the shipped sessions' palettes at their highest lightness (L* 66: warm, lab): the
    text against its backdrop meets WCAG AA for normal text (4.5 : 1)."""
    from visualizer.window.pygame_loader import pygame

    canvas = pygame.Surface((1280, 720))
    canvas.fill(field_rgb)
    top = 300
    bottom = words.draw(canvas, "May I meet today with kindness", size="big", centre_x=640, top=top, opacity=1.0)
    pixels = np.transpose(pygame.surfarray.array3d(canvas), (1, 0, 2))[top:bottom]
    inside = pixels[:, (pixels != field_rgb).any(axis=2).any(axis=0)]  # the backdrop's columns
    lum = luminance(inside)
    text, backdrop = lum.max(), np.median(lum[:, :8])  # the left padding holds no glyph
    assert (text + 0.05) / (backdrop + 0.05) >= 4.5


def test_the_calm_question_takes_1_to_5_and_any_other_key_skips(words):
    from visualizer.meditation.window import ask_calm
    from visualizer.window.display import Display
    from visualizer.window.pygame_loader import pygame

    display = Display(size=(640, 360), fullscreen=False, caption="calm")
    answers = []
    for key in (pygame.K_4, pygame.K_KP2, pygame.K_ESCAPE, pygame.K_SPACE):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
        answers.append(ask_calm(display, words, "How calm do you feel right now?"))
    assert answers == [4, 2, None, None]
