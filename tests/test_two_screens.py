"""Two screens in one process, both windows real (SDL's dummy video driver opens several): a clean
output and a controls window whose sliders, keys and preview drive the same registry."""

import numpy as np
import pygame
import pytest
from pygame._sdl2.video import Window

from visualizer.cli import main
from visualizer.engine.audio.engine import AudioChoice
from visualizer.engine.params import REGISTRY
from visualizer.render.frames import FramePainter
from visualizer.window.app import App, AppOptions
from visualizer.window.windows import PREVIEW_AT


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    a = App(AppOptions(preset="5meo", size=(48, 48), headless=True, window=(640, 360), output_display=0,
                       audio=AudioChoice("none")))
    yield a
    a.close()


def rgb(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface).transpose(1, 0, 2)  # (h, w, 3)


def post(event_type, **attributes):
    pygame.event.post(pygame.event.Event(event_type, **attributes))


def test_the_output_is_the_field_alone_and_the_controls_show_hud_and_preview(app):
    for _ in range(10):
        app.frame()
    state, shown_lut = app.state, app.stage.lut(app.state)[1]
    assert app.display.fullscreen and app.controls.window.size == (640, 360)
    # every output pixel is the field of this FrameState as a HUD-free video frame paints it
    painter = FramePainter(app.display.size)
    frame = painter.paint(state.theta, view=state.view, reference=state.reference, lut=shown_lut,
                          stagger=state.stagger)
    field_only = frame.view(np.uint8).reshape(*frame.shape, 4)[..., :3]
    np.testing.assert_array_equal(rgb(app.display.screen), field_only)
    # the controls window (read back from its renderer): the HUD panel, then the preview of the output
    controls = rgb(app.controls.pixels())  # 11 frames drawn: the preview was refreshed on the last (every 2nd)
    (x, y), (w, h) = PREVIEW_AT, app.controls._preview.get_size()
    expected = rgb(pygame.transform.smoothscale(app.display.canvas, (w, h)))
    np.testing.assert_array_equal(controls[y:y + h, x:x + w], expected)
    panel = controls[:200, :250].reshape(-1, 3)
    assert len(np.unique(panel, axis=0)) > 20  # text, slider bars and meters, not a flat background
    # the HUD lists a slider for every registry parameter (the single window: the five couplings)
    assert len(app.controls.hud._slider_rects) == len(REGISTRY)


def test_a_slider_drag_in_the_controls_window_sets_the_base_and_the_output_ignores_the_mouse(app):
    speed = tuple(REGISTRY).index("speed")
    rect = app.controls.hud._slider_rects[speed]
    output = Window.from_display_module()
    post(pygame.MOUSEBUTTONDOWN, button=1, pos=(rect.right - 1, rect.centery), window=output)
    post(pygame.MOUSEBUTTONUP, button=1, pos=(rect.right - 1, rect.centery), window=output)
    app.frame()
    assert app.session.base.speed == REGISTRY["speed"].default  # a click on the projector does nothing
    post(pygame.MOUSEBUTTONDOWN, button=1, pos=(rect.right - 1, rect.centery), window=app.controls.window)
    app.frame()
    assert app.selected == speed and app.session.base.speed == pytest.approx(REGISTRY["speed"].hi, abs=0.05)
    post(pygame.MOUSEMOTION, pos=(rect.x + rect.w // 4, rect.centery), rel=(0, 0), buttons=(1, 0, 0),
         window=app.controls.window)
    app.frame()
    assert app.session.base.speed == pytest.approx(1.0, abs=0.05)  # a quarter of 0..4
    assert app.state.params.speed == pytest.approx(1.0, abs=0.05)  # and the field runs at it


def test_keys_select_and_move_any_registry_parameter(app):
    for _ in range(tuple(REGISTRY).index("lightness")):
        post(pygame.KEYDOWN, key=pygame.K_TAB, mod=0, unicode="", scancode=0)
    post(pygame.KEYDOWN, key=pygame.K_RIGHT, mod=0, unicode="", scancode=0)
    before = app.session.base.lightness
    app.frame()
    assert app.session.base.lightness == before + REGISTRY["lightness"].step


def test_the_cursor_hides_over_the_output_only(app):
    post(pygame.WINDOWENTER, window=Window.from_display_module())
    app.frame()
    assert not pygame.mouse.get_visible()
    post(pygame.WINDOWENTER, window=app.controls.window)
    app.frame()
    assert pygame.mouse.get_visible()


def test_an_output_display_that_does_not_exist_is_one_line_and_exit_2_before_any_window(capsys):
    pygame.quit()
    assert main(["--output-display", "7", "--headless", "--no-audio", "--frames", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["visualizer: error: --output-display 7 does not exist: this machine has 1 display(s), 0..0"]
    assert pygame.display.get_surface() is None
