"""The app in a real pygame window (SDL dummy driver): frames, screenshots and keys."""

import cmath
from pathlib import Path

import numpy as np
import pygame
import pytest

from visualizer.engine.params import COUPLINGS
from visualizer.engine.phase_reference import mean_unit_vector
from visualizer.window.app import App, AppOptions


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "pictures"))
    a = App(AppOptions(preset="nn-dmt", size=(48, 48), headless=True, window=(320, 240)))
    yield a
    a.close()


def press(app, key, mod=0):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode="", scancode=0))
    app.frame()


def test_headless_run_writes_a_non_uniform_screenshot(tmp_path):
    shot = tmp_path / "shot.png"
    App(AppOptions(preset="5meo", size=(64, 64), headless=True, frames=120, screenshot=shot,
                   window=(320, 240))).run()
    image = pygame.surfarray.array3d(pygame.image.load(str(shot)))
    assert image.shape == (320, 240, 3)
    assert image[200:, 150:].std() > 20  # a pattern, not one colour, away from the HUD


def test_arrow_keys_move_the_selected_slider(app):
    before = app.session.base.as_dict()
    press(app, pygame.K_TAB)
    assert app.selected == 1
    press(app, pygame.K_RIGHT)
    assert app.session.base.as_dict()["k2"] == before["k2"] + 1
    press(app, pygame.K_LEFT, pygame.KMOD_SHIFT)
    assert app.session.base.as_dict()["k2"] == before["k2"] - 4
    press(app, pygame.K_UP)
    press(app, pygame.K_UP)
    assert app.selected == len(COUPLINGS) - 1
    press(app, pygame.K_RIGHT)
    assert app.session.base.as_dict()["k_sw"] == before["k_sw"] + 1


def test_sliders_clamp_to_their_range(app):
    for _ in range(10):
        press(app, pygame.K_LEFT, pygame.KMOD_SHIFT)
    assert app.session.base.as_dict()["k1"] == -20


def test_mouse_drag_sets_a_slider(app):
    rect = app.hud._slider_rects[3]
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(rect.right - 1, rect.centery)))
    app.frame()
    assert app.selected == 3 and app.session.base.as_dict()["k4"] == pytest.approx(20, abs=0.5)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(rect.x, rect.centery), rel=(0, 0), buttons=(1, 0, 0)))
    app.frame()
    assert app.session.base.as_dict()["k4"] == pytest.approx(-20, abs=0.5)


def test_space_pauses_the_field(app):
    press(app, pygame.K_SPACE)
    assert app.session.paused
    frozen = app.session.field.theta.copy()
    app.frame()
    assert np.array_equal(frozen, app.session.field.theta)
    press(app, pygame.K_SPACE)
    assert not np.array_equal(frozen, app.session.field.theta)


def test_c_colours_relative_to_the_mean_phase_and_back(app):
    app.frame()
    assert app.state.reference == 0.0  # nn-dmt draws absolute phase
    press(app, pygame.K_c)
    z = mean_unit_vector(app.state.theta)
    assert app.state.reference == pytest.approx(cmath.phase(z), abs=1e-9)  # starts aligned with the field
    assert app.state.reference != 0.0
    press(app, pygame.K_c)
    assert app.state.reference == 0.0


def test_h_hides_the_hud(app):
    press(app, pygame.K_SPACE)  # freeze the field so only the HUD can differ between frames
    app.frame()
    shown = pygame.surfarray.array3d(app.display.screen).copy()
    press(app, pygame.K_h)
    assert not app.hud_visible
    hidden = pygame.surfarray.array3d(app.display.screen).copy()
    app.frame()
    assert np.array_equal(hidden, pygame.surfarray.array3d(app.display.screen))  # frozen: nothing moves
    assert np.abs(hidden.astype(int) - shown).sum() > 0  # the HUD was there and is gone


def test_n_and_p_cycle_presets_and_skip_broken_ones(app, tmp_path):
    names = [app.session.preset.path.stem]
    press(app, pygame.K_n)
    names.append(app.session.preset.path.stem)
    press(app, pygame.K_p)
    names.append(app.session.preset.path.stem)
    assert names[0] == names[2] != names[1]
    user = tmp_path / "config" / "visualizer" / "presets"
    user.mkdir(parents=True)
    (user / "o-broken.toml").write_text("name = 'broken'\n[coupling]\nk = 1\n")  # sorts after nn-dmt
    press(app, pygame.K_n)
    assert app.session.preset.path.stem != "o-broken"
    assert "o-broken.toml" in app.hud_model.message[0]


def test_r_reseeds_and_s_saves_a_screenshot(app, tmp_path, capsys):
    before = app.session.field.theta.copy()
    press(app, pygame.K_r)
    assert app.session.seed == 1 and not np.allclose(before, app.session.field.theta, atol=0.5)
    press(app, pygame.K_s)
    saved = list((tmp_path / "pictures" / "visualizer").glob("*.png"))
    assert len(saved) == 1 and str(saved[0]) in capsys.readouterr().out


def test_q_quits(app):
    press(app, pygame.K_q)
    assert not app.running


def test_s_with_an_unwritable_pictures_folder_is_a_message_not_a_crash(app, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"  # a folder cannot be made inside a file, even by root
    blocker.write_text("")
    monkeypatch.setenv("XDG_PICTURES_DIR", str(blocker))
    press(app, pygame.K_s)
    assert app.running and "screenshot not saved" in app.hud_model.message[0]


def test_w_records_the_output_with_the_played_file_in_sync(tmp_path, monkeypatch):
    """~2 s recorded through the real app (headless, the file analysed in lockstep): ffprobe finds a
    video and an audio stream of the same length, and the audio is the file from where the
    recording began (found by cross-correlation)."""
    import json
    import subprocess

    import imageio_ffmpeg

    from visualizer.engine.audio.decode import load_audio, mono
    from visualizer.engine.audio.engine import AudioChoice

    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "pictures"))
    demo = Path(__file__).resolve().parent.parent / "assets" / "demo.flac"
    app = App(AppOptions(preset="5meo", size=(48, 48), headless=True, window=(320, 240),
                         audio=AudioChoice("file", path=demo)))
    try:
        for _ in range(30):  # the recording starts 0.5 s into the file
            app.frame()
        press(app, pygame.K_w)
        for _ in range(119):
            app.frame()
        press(app, pygame.K_w)  # 120 frames recorded: 2.0 s
    finally:
        app.close()  # waits for the file to be finished
    (video_file,) = (tmp_path / "pictures" / "visualizer").glob("*.mp4")
    assert not list(video_file.parent.glob(".*"))  # the parts were removed
    info = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,nb_read_frames,duration", "-of", "json", str(video_file)],
        capture_output=True, text=True, check=True).stdout)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264" and int(streams["video"]["nb_read_frames"]) == 120
    assert streams["audio"]["codec_name"] == "aac"
    assert float(streams["video"]["duration"]) == pytest.approx(2.0, abs=1 / 60)
    assert float(streams["audio"]["duration"]) == pytest.approx(float(streams["video"]["duration"]), abs=0.2)
    # the recorded sound is the file from 0.5 s on: cross-correlate against the source
    samples, sr = load_audio(demo)
    source = mono(samples)
    recorded = np.frombuffer(subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(video_file), "-f", "f32le", "-ac", "1",
         "-ar", str(sr), "-"],
        capture_output=True, check=True).stdout, np.float32)
    part = recorded[int(0.2 * sr):int(1.2 * sr)]  # 1 s from 0.2 s into the recording
    lags = np.arange(int(0.6 * sr), int(0.8 * sr))  # where that second starts in the file
    spectrum = np.fft.rfft(source[:int(2.2 * sr)], 2 * int(2.2 * sr))
    correlation = np.fft.irfft(spectrum * np.conj(np.fft.rfft(part, 2 * int(2.2 * sr))))
    found = lags[np.argmax(correlation[lags])] / sr
    assert found == pytest.approx(0.7, abs=0.002)  # 0.5 s (start) + 0.2 s
    # sound to the end, not silence padded in: the last 0.1 s is as loud as the file there
    rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
    assert rms(recorded[int(1.85 * sr):int(1.95 * sr)]) == pytest.approx(rms(source[int(2.35 * sr):int(2.45 * sr)]),
                                                                            rel=0.3)


def test_every_key_of_the_key_map_is_handled_and_listed(app, capsys):
    """Each key in the one table (stage/keys.py) runs without error, and the help overlay and
    ``visualizer --help`` list it."""
    from visualizer.cli import build_parser
    from visualizer.stage.keys import KEYMAP

    lines = app.stage.help()
    for key in KEYMAP:
        assert any(line.strip().startswith(key.label) for line in lines)
        assert f"{key.label} {key.what}" in build_parser().description
        if key.action in ("quit", "record"):
            continue
        for name in key.names:
            press(app, pygame.key.key_code(name))
    assert app.running
    press(app, pygame.K_ESCAPE)
    assert not app.running
