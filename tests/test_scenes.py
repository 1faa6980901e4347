"""Scenes, sets, bar-quantised morphs and stage actions, driven by synthetic feature snapshots."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from visualizer.engine import presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import REGISTRY, Params
from visualizer.engine.session import Session
from visualizer.render.colour import build_lut
from visualizer.stage.actions import BLACKOUT_FADE_S, Look, StageActions, look_lut
from visualizer.stage.changes import ControlChange
from visualizer.stage.performance import Performance
from visualizer.stage.scenes import SetError, crossfade_lut, lerp_params, load_set
from visualizer.stage.user_preset import save_user_preset

EXAMPLE = Path(__file__).resolve().parent.parent / "presets" / "sets" / "example.toml"
FPS = 60
FRAMES_PER_BEAT = 15  # 240 BPM, the fastest tempo the stage passes on: fewer frames keep the tests quick


@dataclasses.dataclass(frozen=True)
class BarSnapshot(FeatureSnapshot):
    """A snapshot from a tracker that also reports downbeats (the field the beat helper adds)."""

    downbeat_count: int = 0


def beat_clock(frames: int, *, downbeat_offset: int | None = None, status: str = "test"):
    """Snapshots at 60 fps: the beat count rises every FRAMES_PER_BEAT frames (first at frame 0);
    with ``downbeat_offset`` bars begin on beats offset, offset + 4, … (counted in downbeat_count)."""
    for frame in range(frames):
        beats = frame // FRAMES_PER_BEAT + 1
        phase = (frame % FRAMES_PER_BEAT) / FRAMES_PER_BEAT
        if downbeat_offset is None:
            yield frame, FeatureSnapshot(beat_count=beats, beat_phase=phase, tempo_bpm=240.0, status=status,
                                         beat_present=True)
        else:
            bars = sum(1 for b in range(1, beats + 1) if (b - downbeat_offset) % 4 == 0 and b >= downbeat_offset)
            yield frame, BarSnapshot(beat_count=beats, beat_phase=phase, tempo_bpm=240.0, status=status,
                                     downbeat_count=bars, beat_present=True)


def write_set(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "set.toml"
    path.write_text(body)
    return path


TWO_SCENES = """
name = "two"
[[scene]]
preset = "5meo"
[[scene]]
name = "Clusters"
preset = "nn-dmt"
transition_beats = 4
palette = "lab"
[scene.overrides]
k_sw = 3.5
speed = 0.5
"""


def test_the_example_set_loads_with_every_scene_valid():
    scene_set = load_set(EXAMPLE)
    assert len(scene_set.scenes) == 4
    assert [s.transition_beats for s in scene_set.scenes] == [8, 8, 16, 0]
    assert scene_set.scenes[0].params() == scene_set.scenes[0].preset.base.replace(k_sw=-4.0)


@pytest.mark.parametrize("body, message", [
    ('[[scene]]\npreset = "nope"', "no preset named 'nope'"),
    ('[[scene]]\npreset = "5meo"\n[scene.overrides]\nk9 = 1.0', "#1: overrides: unknown key 'k9'"),
    ('[[scene]]\npreset = "5meo"\n[scene.overrides]\nk1 = 25.0', "k1 = 25.0: expected a number in -20..20"),
    ('[[scene]]\npreset = "5meo"\ntransition_beats = 1.5', "transition_beats = 1.5"),
    ('[[scene]]\npreset = "5meo"\npalette = "rainbow"', "palette = 'rainbow'"),
    ('name = "empty"', "no scenes"),
    ('[[scene]]\npreset = "5meo"\ncolour = 1', "unknown key 'colour'"),
])
def test_a_bad_set_is_one_line_naming_the_problem(tmp_path, body, message):
    with pytest.raises(SetError, match=message.replace("(", r"\(").replace(".", r"\.")) as error:
        load_set(write_set(tmp_path, body))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("downbeat_offset", [None, 3])
def test_a_morph_starts_on_the_next_bar_and_lands_on_the_target_exactly_on_a_bar(tmp_path, downbeat_offset):
    session = Session.from_preset("5meo", size=(16, 16))
    performance = Performance(session, scene_set=load_set(write_set(tmp_path, TWO_SCENES)))
    target = performance.director.set.scenes[1].params()
    start = session.base
    bar_beats = [b for b in range(1, 60) if (b - (downbeat_offset or 1)) % 4 == 0 and b >= (downbeat_offset or 1)]
    request_frame = FRAMES_PER_BEAT * 3 // 2  # mid-beat 2
    first_bar = next(b for b in bar_beats if (b - 1) * FRAMES_PER_BEAT > request_frame)
    begins = (first_bar - 1) * FRAMES_PER_BEAT
    ends = begins + 4 * FRAMES_PER_BEAT  # 4 beats = a bar later: a bar line too
    seen, blends = [], []
    for frame, features in beat_clock(ends + 3, downbeat_offset=downbeat_offset):
        if frame == request_frame:
            performance.queue.put(ControlChange("scene", value=1))
        performance.before_advance(features, 1 / FPS)
        seen.append(session.base)
        blends.append(performance.palette_blend)
        session.advance(features, 1 / FPS)
    assert all(b == start for b in seen[:begins])  # armed, waiting for the bar
    assert session.preset.name == "N,N-DMT"
    for frame in range(begins, ends):  # on the way: strictly between, moving one way
        for name in ("k1", "k_sw", "speed"):
            lo, hi = sorted((start.get(name), target.get(name)))
            if lo != hi:
                assert lo <= seen[frame].get(name) <= hi
    assert seen[ends - 1] != target
    assert seen[ends] == target  # exactly, on the bar
    assert all(b == target for b in seen[ends:])
    assert blends[begins - 1] is None and blends[begins] == ("mono", "lab", 0.0)  # 5-MeO's mono → lab
    assert 0.0 < blends[(begins + ends) // 2][2] < 1.0
    assert blends[ends] == ("lab", "lab", 1.0) and performance.palette_blend == ("lab", "lab", 1.0)  # it stays
    performance.queue.put(ControlChange("preset", name="mosaic"))  # another preset: its own palette again
    performance.before_advance(features, 1 / FPS)
    assert session.preset.name != "N,N-DMT" and performance.palette_blend is None


def test_a_preset_change_on_the_bar_keeps_the_pattern_when_the_grid_matches(tmp_path):
    session = Session.from_preset("5meo", size=(16, 16))
    performance = Performance(session, scene_set=load_set(write_set(tmp_path, TWO_SCENES)))
    performance.queue.put(ControlChange("scene", value=1))
    for frame, features in beat_clock(FRAMES_PER_BEAT * 4 + 1):
        before = session.field.theta.copy()
        performance.before_advance(features, 1 / FPS)
        if session.preset.name == "N,N-DMT":
            break
        session.advance(features, 1 / FPS)
    assert session.preset.name == "N,N-DMT" and frame == FRAMES_PER_BEAT * 4  # beat 5 begins bar 2
    np.testing.assert_array_equal(session.field.theta, before)


def test_a_cut_scene_applies_on_the_bar_at_once(tmp_path):
    session = Session.from_preset("5meo", size=(16, 16))
    body = TWO_SCENES.replace("transition_beats = 4", "transition_beats = 0")
    performance = Performance(session, scene_set=load_set(write_set(tmp_path, body)))
    performance.queue.put(ControlChange("next_scene"))  # from no scene: scene 0
    performance.queue.put(ControlChange("next_scene"))  # scene 1
    for _, features in beat_clock(FRAMES_PER_BEAT * 4 + 1):
        performance.before_advance(features, 1 / FPS)
    assert session.base == performance.director.set.scenes[1].params()


def test_the_drop_fires_once_on_the_next_bar_and_pours_energy_in():
    runs = {}
    for drop in (False, True):  # deterministic: the two runs are compared frame by frame, so the
        # eigenmodes must not arrive from the background on different frames
        session = Session.from_preset("5meo", size=(16, 16), deterministic=True)
        performance = Performance(session)
        energies, armed = [], []
        for frame, features in beat_clock(FRAMES_PER_BEAT * 4 + 12):
            if drop and frame == 10:
                performance.queue.put(ControlChange("drop"))
            performance.before_advance(features, 1 / FPS)
            armed.append(performance.stage.drop_armed)
            energies.append(session.advance(features, 1 / FPS).annealing.energy)
        runs[drop] = np.array(energies)
    bar = FRAMES_PER_BEAT * 4  # beat 5 begins bar 2
    assert armed[10:bar] == [True] * (bar - 10) and not any(armed[bar:])
    np.testing.assert_array_equal(runs[True][:bar], runs[False][:bar])  # nothing before the bar
    assert np.all(runs[True][bar:] >= runs[False][bar:]) and runs[True][-1] > runs[False][-1]  # then more


def test_freeze_blackout_and_strobe_through_the_queue():
    session = Session.from_preset("5meo", size=(16, 16))
    messages = []
    performance = Performance(session, say=messages.append)
    for kind in ("freeze", "blackout", "strobe"):
        performance.queue.put(ControlChange(kind))
    looks = []
    for _, features in beat_clock(FPS * 2):
        performance.before_advance(features, 1 / FPS)
        looks.append(performance.look)
    assert session.paused and messages == ["frozen", "blackout", "strobe on the beat (flash limited)"]
    assert looks[FPS - 1].brightness == pytest.approx(1.0 - FPS / FPS / BLACKOUT_FADE_S, abs=1e-9)
    assert looks[-1].brightness == 0.0


def test_blackout_fades_out_and_back_in_over_its_time():
    stage = StageActions()
    stage.toggle_blackout()
    frames = int(BLACKOUT_FADE_S * FPS)
    looks = [stage.update(FeatureSnapshot(), 1 / FPS)[0].brightness for _ in range(frames)]
    assert looks[frames // 2 - 1] == pytest.approx(0.5) and looks[-1] == pytest.approx(0.0, abs=1e-9)
    stage.toggle_blackout()
    back = [stage.update(FeatureSnapshot(), 1 / FPS)[0].brightness for _ in range(frames)]
    assert back[-1] == pytest.approx(1.0)


def test_strobe_flashes_on_each_beat_and_only_while_on():
    stage = StageActions()
    flashes = []
    for frame, features in beat_clock(FRAMES_PER_BEAT * 4):
        if frame == FRAMES_PER_BEAT * 2 - FRAMES_PER_BEAT // 2:  # mid-beat 2
            stage.toggle_strobe()
        flashes.append(stage.update(features, 1 / FPS)[0].strobe)
    assert max(flashes[:FRAMES_PER_BEAT * 2]) == 0.0
    assert [f for f in range(len(flashes)) if flashes[f] == 1.0] == [FRAMES_PER_BEAT * 2, FRAMES_PER_BEAT * 3]
    assert 0.0 < flashes[FRAMES_PER_BEAT * 2 + 1] < 1.0


def test_look_lut_matches_a_float_reference():
    lut = build_lut("lab")
    for look in (Look(0.5, 0.0), Look(1.0, 0.25), Look(0.3, 0.8), Look(0.0, 1.0), Look(1.0, 1.0)):
        reference = lut.astype(np.float64) * look.brightness * (1 - look.strobe) + 255.0 * look.strobe * look.brightness
        assert np.abs(look_lut(lut, look) - reference).max() <= 0.5 + 1e-9
    assert look_lut(lut, Look()) is lut
    assert (look_lut(lut, Look(1.0, 1.0)) == 255).all() and (look_lut(lut, Look(0.0, 0.5)) == 0).all()


def test_lerp_and_crossfade_end_exactly_on_their_ends():
    a, b = Params(), Params().replace(k1=5.0, speed=2.0)
    assert lerp_params(a, b, 0.0) == a and lerp_params(a, b, 1.0) is b
    assert lerp_params(a, b, 0.5).k1 == 2.5
    mono, lab = build_lut("mono"), build_lut("lab")
    np.testing.assert_array_equal(crossfade_lut(mono, lab, 0.0), mono)
    np.testing.assert_array_equal(crossfade_lut(mono, lab, 1.0), lab)


def test_a_saved_user_preset_loads_back_with_the_sliders_and_routes(tmp_path):
    for path in presets.discover():
        preset = presets.load(path)
        base = preset.base.replace(k1=-3.5, k_sw=7.25, lightness=55.0, saturation=0.5, small_world_links=3.0)
        saved = presets.load(save_user_preset(preset, base, folder=tmp_path))
        assert saved.base == base
        assert (saved.routes, saved.sweep, saved.field.height, saved.injection, saved.annealing, saved.display) == (
            preset.routes, preset.sweep, preset.field.height, preset.injection, preset.annealing, preset.display)
    again = save_user_preset(preset, base, name=saved.name, folder=tmp_path)
    assert again.stem.endswith("-2")  # never overwrites
    assert set(REGISTRY) >= {"k1", "k_sw", "lightness", "saturation"}


def test_bars_follow_downbeats_and_fall_back_to_every_fourth_beat_when_they_stop():
    from visualizer.stage.clock import BarClock

    bars = BarClock()
    seen = []
    for beat in range(1, 30):
        downbeats = (beat + 1) // 4 if beat <= 12 else 3  # downbeats on beats 3, 7, 11, then none
        bar, new = bars.update(BarSnapshot(beat_count=beat, downbeat_count=downbeats))
        if bar:
            seen.append(beat)
    assert seen == [3, 7, 11, 21, 25, 29]  # silent for two bars after beat 11, then beats 1 + 4k


def test_a_scene_change_under_no_audio_arrives_within_one_timed_bar(tmp_path, monkeypatch):
    """The real app under --no-audio (no beats at all): '.' asks for the next scene and the morph
    begins within one bar of the timed beat (4 beats at FALLBACK_BPM: 2 s, 120 frames)."""
    import pygame

    from visualizer.engine.audio.engine import AudioChoice
    from visualizer.stage.clock import BEATS_PER_BAR, FALLBACK_BPM
    from visualizer.stage.stage import StageOptions
    from visualizer.window.app import App, AppOptions

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    app = App(AppOptions(preset="5meo", size=(24, 24), headless=True, window=(320, 240),
                         audio=AudioChoice("none"), stage=StageOptions(set_path=write_set(tmp_path, TWO_SCENES))))
    try:
        for _ in range(37):  # somewhere inside a timed bar
            app.frame()
        director = app.stage.performance.director
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_PERIOD, mod=0, unicode=".", scancode=0))
        bar_frames = round(BEATS_PER_BAR * 60 / FALLBACK_BPM * FPS)
        waited = 0
        while director.current is None and waited <= 2 * bar_frames:
            app.frame()
            waited += 1
        assert app.features.beat_count == 0  # the audio gave no beat
        assert director.current == 0 and director.morphing and waited <= bar_frames
    finally:
        app.close()


def test_taps_make_beats_for_the_strobe_under_no_audio():
    session = Session.from_preset("5meo", size=(16, 16))
    performance = Performance(session)
    performance.queue.put(ControlChange("strobe"))
    flashes, tempo = [], []
    for frame in range(4 * FPS):
        if frame in (0, 30, 60, 90):  # four taps half a second apart: 120 BPM
            performance.queue.put(ControlChange("tap"))
        features = performance.before_advance(FeatureSnapshot(status="none"), 1 / FPS)
        flashes.append(performance.look.strobe == 1.0)
        tempo.append(features.tempo_bpm)
    beats = [f for f, on in enumerate(flashes) if on]
    assert tempo[-1] == pytest.approx(120.0) and features.tap_tempo
    assert [b for b in beats if b >= 90] == list(range(90, 4 * FPS, 30))  # on the tapped grid, the last tap a beat
