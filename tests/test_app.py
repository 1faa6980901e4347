"""The app in a real pygame window (SDL dummy driver): frames, screenshots and keys."""

import numpy as np
import pygame
import pytest

from visualizer.app import SLIDERS, App, AppOptions


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "pictures"))
    a = App(AppOptions(preset="nn-dmt", size=(48, 48), headless=True, window=(320, 240)))
    yield a
    pygame.quit()


def press(app, key, mod=0):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode="", scancode=0))
    app.frame()


def test_headless_run_writes_a_non_uniform_screenshot(tmp_path):
    shot = tmp_path / "shot.png"
    App(AppOptions(preset="5meo", size=(64, 64), headless=True, frames=120, screenshot=shot,
                   window=(320, 240))).run()
    image = pygame.surfarray.array3d(pygame.image.load(str(shot)))
    field = image[40:280, :, :]  # the field's square, letterboxed in the middle
    assert image.shape == (320, 240, 3)
    assert field.std() > 20  # a pattern, not one colour
    assert image[:30].max() == 0 or image[:30].std() > 0  # letterbox bars are drawn (HUD may cover)


def test_arrow_keys_move_the_selected_slider(app):
    before = dict(app.base)
    press(app, pygame.K_TAB)
    assert app.selected == 1
    press(app, pygame.K_RIGHT)
    assert app.base["k2"] == before["k2"] + 1
    press(app, pygame.K_LEFT, pygame.KMOD_SHIFT)
    assert app.base["k2"] == before["k2"] - 4
    press(app, pygame.K_UP)
    press(app, pygame.K_UP)
    assert app.selected == len(SLIDERS) - 1
    press(app, pygame.K_RIGHT)
    assert app.base["k_sw"] == before["k_sw"] + 1


def test_sliders_clamp_to_their_range(app):
    for _ in range(10):
        press(app, pygame.K_LEFT, pygame.KMOD_SHIFT)
    assert app.base["k1"] == -20


def test_mouse_drag_sets_a_slider(app):
    rect = app.hud._slider_rects[3]
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(rect.right - 1, rect.centery)))
    app.frame()
    assert app.selected == 3 and app.base["k4"] == pytest.approx(20, abs=0.5)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(rect.x, rect.centery), rel=(0, 0), buttons=(1, 0, 0)))
    app.frame()
    assert app.base["k4"] == pytest.approx(-20, abs=0.5)


def test_space_pauses_the_field(app):
    press(app, pygame.K_SPACE)
    assert app.paused
    frozen = app.field.theta.copy()
    app.frame()
    assert np.array_equal(frozen, app.field.theta)
    press(app, pygame.K_SPACE)
    assert not np.array_equal(frozen, app.field.theta)


def test_h_hides_the_hud(app):
    shown = pygame.surfarray.array3d(app.display.screen).copy()
    press(app, pygame.K_SPACE)  # freeze the field so only the HUD can differ
    press(app, pygame.K_h)
    assert not app.hud_visible
    hidden = pygame.surfarray.array3d(app.display.screen)
    assert np.abs(hidden[:100, :60].astype(int) - shown[:100, :60]).sum() > 0


def test_n_and_p_cycle_presets_and_skip_broken_ones(app, tmp_path):
    names = [app.preset.path.stem]
    press(app, pygame.K_n)
    names.append(app.preset.path.stem)
    press(app, pygame.K_p)
    names.append(app.preset.path.stem)
    assert names[0] == names[2] != names[1]
    user = tmp_path / "config" / "visualizer" / "presets"
    user.mkdir(parents=True)
    (user / "o-broken.toml").write_text("name = 'broken'\n[coupling]\nk = 1\n")  # sorts after nn-dmt
    press(app, pygame.K_n)
    assert app.preset.path.stem != "o-broken"
    assert "o-broken.toml" in app._message[0]


def test_r_reseeds_and_s_saves_a_screenshot(app, tmp_path, capsys):
    before = app.field.theta.copy()
    press(app, pygame.K_r)
    assert app.seed == 1 and not np.allclose(before, app.field.theta, atol=0.5)
    press(app, pygame.K_s)
    saved = list((tmp_path / "pictures" / "visualizer").glob("*.png"))
    assert len(saved) == 1 and str(saved[0]) in capsys.readouterr().out


def test_q_quits(app):
    press(app, pygame.K_q)
    assert not app.running


def test_without_music_the_sweeps_follow_an_lfo_and_with_music_the_routes_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from visualizer.audio.engine import AudioChoice

    silent = App(AppOptions(preset="nn-dmt", size=(32, 32), headless=True, window=(320, 240), audio=AudioChoice("none")))
    assert [r.source for r in silent.modulator.routes] == ["lfo"] and silent.modulator.routes[0].target == "k3"
    for _ in range(60 * 10):  # 10 s into the 40 s LFO: a quarter period, the top of the range
        silent.frame()
    assert silent.live["k3"] == pytest.approx(20.0, abs=0.5)
    music = App(AppOptions(preset="nn-dmt", size=(32, 32), headless=True, window=(320, 240)))
    assert {r.source for r in music.modulator.routes} == {"bass", "energy", "onset"}
