"""`visualizer session --play FILE`: a "music" phase hears the file through the main app's audio
engine (the same analyser and the preset's routes); the other phases do not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from visualizer.meditation.cli import main as session_main

DEMO = Path(__file__).resolve().parents[1] / "assets" / "demo.flac"

LISTEN = """
name = "Listen"
description = "Music, then silence."
preset = "metta"
fade_in_s = 1.0
fade_out_s = 1.0

[[phase]]
name = "listen"
duration_s = 10.0
energy = "music"

[[phase]]
name = "quiet"
duration_s = 5.0
energy = "none"
"""


def run(tmp_path: Path, label: str, *extra: str) -> dict:
    out = tmp_path / label
    assert session_main([str(tmp_path / "listen.toml"), "--fast", "--seed", "2", "--report", str(out), *extra]) == 0
    return json.loads((out / "report.json").read_text())


def test_play_drives_the_field_in_a_music_phase_through_the_presets_route(tmp_path):
    """metta's one route is energy → injection (0..2 rad/s): with the demo track the listen
    phase's live injection follows the music's level; in silence it stays 0; and in the quiet
    phase after it, which hears nothing, it falls back to 0 either way."""
    (tmp_path / "listen.toml").write_text(LISTEN)
    silent = run(tmp_path, "silent")
    played = run(tmp_path, "played", "--play", str(DEMO))
    assert (silent["audio"], played["audio"]) == ("", "demo.flac")
    for report in (silent, played):
        assert [row["name"] for row in report["phases"]] == ["listen", "quiet"]
    t = np.array(played["series"]["t"])
    listening, quiet = (t >= 2) & (t < 10), t >= 13  # the route's 1.5 s release is over by 13 s
    heard, unheard = np.array(played["series"]["injection"]), np.array(silent["series"]["injection"])
    assert unheard.max() == 0.0
    assert heard[listening].min() > 0.2 and heard[listening].max() <= 2.0
    assert heard[quiet].max() < 0.05
    energy_played, energy_silent = np.array(played["series"]["E"]), np.array(silent["series"]["E"])
    assert energy_played[listening].mean() > energy_silent[listening].mean() + 0.02  # the field was moved


def test_play_and_input_are_checked_before_the_session_starts(tmp_path, capsys):
    (tmp_path / "listen.toml").write_text(LISTEN)
    assert session_main([str(tmp_path / "listen.toml"), "--fast", "--play", str(tmp_path / "none.flac")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "none.flac" in err
    with pytest.raises(SystemExit) as caught:  # argparse's usage error
        session_main([str(tmp_path / "listen.toml"), "--fast", "--play", str(DEMO), "--input", "x"])
    assert caught.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_session_without_a_music_phase_says_that_play_is_not_heard(tmp_path, caplog):
    (tmp_path / "listen.toml").write_text(LISTEN.replace('energy = "music"', 'energy = "drone"'))
    report = run(tmp_path, "drone", "--play", str(DEMO))
    assert "has no music phase: --play/--input is heard by none of its phases" in caplog.text
    assert report["audio"] == "demo.flac"


def test_input_hears_a_pulseaudio_monitor_in_a_music_phase(make_null_sink, tmp_path):
    """`--input SINK.monitor` while paplay plays the demo into that sink (a real-time headless
    run; the drone plays into the default sink, which this input does not hear). The demo is
    played four times over (192 s): on a loaded machine the session's start-up (the sound
    process, the field) can outlast one play of its 48 s."""
    import subprocess

    import soundfile

    (tmp_path / "listen.toml").write_text(LISTEN)
    sink = make_null_sink("music")
    samples, sr = soundfile.read(DEMO, dtype="float32", always_2d=True)
    soundfile.write(tmp_path / "demo4.wav", np.tile(samples, (4, 1)), sr)
    player = subprocess.Popen(["paplay", f"--device={sink}", str(tmp_path / "demo4.wav")])
    try:
        out = tmp_path / "input"
        assert session_main([str(tmp_path / "listen.toml"), "--headless", "--no-history", "--input",
                             f"{sink}.monitor", "--report", str(out)]) == 0
    finally:
        player.kill()
        player.wait(5)
    report = json.loads((out / "report.json").read_text())
    t, injection = np.array(report["series"]["t"]), np.array(report["series"]["injection"])
    assert report["audio"] == f"{sink}.monitor"
    assert injection[(t >= 3) & (t < 10)].min() > 0.2 and injection[t >= 13].max() < 0.05
