"""Live audio through a real PulseAudio server: capture a null sink's monitor, play into it."""

import json
import os
import subprocess
import sys
import time

import mir_eval
import numpy as np
import pytest
import scipy.signal
import soundfile

from visualizer.audio.demo import demo_paths
from visualizer.audio.engine import AudioChoice, AudioEngine
from visualizer.audio.sources import FilePlayback, list_input_devices


def wait_for(predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_monitor_sources_are_listed(null_sink):
    names = [d.name for d in list_input_devices()]
    assert f"pulse:{null_sink}.monitor" in names


def test_live_capture_of_the_demo_track_matches_its_ground_truth(null_sink):
    audio_path, truth_path = demo_paths()
    truth = json.loads(truth_path.read_text())
    seconds = 20.0
    engine = AudioEngine(AudioChoice("input", device=f"{null_sink}.monitor"))
    try:
        assert wait_for(lambda: engine.latest().status.startswith("live"), 10), engine.problem
        start_stream_s = engine.latest().time_s
        engine.events.clear()
        player = subprocess.Popen(["paplay", f"--device={null_sink}", str(audio_path)])
        time.sleep(seconds)
        player.kill()
        final = engine.latest()
        onsets = [t for kind, t in list(engine.events) if kind == "onset"]
    finally:
        engine.close()
    assert final.overflows == 0
    # paplay starts after some latency: find the shift that best aligns our onsets with the truth
    true_onsets = np.array([t for t in truth["onsets"] if t < seconds - 1.5])
    ours = np.array(onsets) - start_stream_s

    def f_at(shift):
        return mir_eval.onset.f_measure(true_onsets, ours[ours - shift < seconds - 1.5] - shift, window=0.05)[0]

    shift = max(np.arange(-1.0, 1.5, 0.005), key=f_at)
    assert f_at(shift) >= 0.8
    assert final.tempo_bpm == pytest.approx(100.0, rel=0.02)  # the 4..18 s groove


def test_file_playback_plays_the_exact_samples_into_the_sink(null_sink, tmp_path):
    capture = tmp_path / "capture.wav"
    recorder = subprocess.Popen(["parecord", f"--device={null_sink}.monitor", "--latency-msec=50",
                                 "--file-format=wav", str(capture)])
    time.sleep(0.5)
    os.environ["PULSE_SINK"] = null_sink
    try:
        # a null sink pulls 2 s chunks: PortAudio's ALSA-pulse bridge keeps real time only with a deep buffer
        playback = FilePlayback(demo_paths()[0], latency_s=1.0)
        playback.open()
        assert wait_for(lambda: playback.ring.written > 2.6 * playback.sr, 10)
        played_frames = playback.ring.written
        time.sleep(1.5)  # let the output buffer drain into the sink
        playback.close()
    finally:
        del os.environ["PULSE_SINK"]
    time.sleep(1.0)
    recorder.terminate()
    recorder.wait(5)
    assert playback.delay_frames == pytest.approx(playback.sr, rel=0.1) and played_frames > 2 * playback.sr
    recorded, sr = soundfile.read(capture, dtype="float32", always_2d=True)
    assert sr == playback.sr
    source = playback.samples[:played_frames, 0]
    rec = recorded[:, 0]
    # find one second from inside what was played in the recording, then compare the waveforms
    probe = source[sr: 2 * sr]
    lag = int(np.argmax(scipy.signal.correlate(rec, probe, mode="valid", method="fft")))
    segment = rec[lag:lag + probe.size]
    # 16-bit through the server, resampled by the ALSA-pulse bridge: not bit-exact, the same waveform
    assert np.corrcoef(segment, probe)[0, 1] > 0.99
    assert np.sqrt(np.mean((segment - probe) ** 2)) < 0.05 * np.sqrt(np.mean(probe ** 2))


def test_a_vanished_device_is_reported_lost_and_found_again(null_sink):
    engine = AudioEngine(AudioChoice("input", device=f"{null_sink}.monitor"))
    try:
        assert wait_for(lambda: engine.latest().status.startswith("live"), 10), engine.problem
        modules = subprocess.run(["pactl", "list", "short", "modules"], capture_output=True, text=True).stdout
        module = next(line.split()[0] for line in modules.splitlines() if f"sink_name={null_sink}" in line)
        subprocess.run(["pactl", "unload-module", module], check=True)
        assert wait_for(lambda: engine.latest().status == "lost", 15), engine.latest().status
        assert "retrying" in engine.problem
        subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={null_sink}"], check=True, capture_output=True)
        assert wait_for(lambda: engine.latest().status.startswith("live"), 15), engine.problem
    finally:
        engine.close()


def test_missing_portaudio_is_one_line_and_the_visuals_keep_running(tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    env = dict(os.environ, PYTHONPATH=f"{fake}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", SDL_VIDEODRIVER="dummy")
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "visualizer", "--input", "anything", "--headless", "--frames", "30",
                             "--size", "32", "--screenshot", str(shot)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and shot.exists()
    problem = [line for line in result.stderr.splitlines() if "PortAudio" in line]
    assert len(problem) == 1 and "libportaudio2" in problem[0]


def test_an_unreadable_file_is_one_line_and_the_visuals_keep_running(tmp_path):
    bad = tmp_path / "song.mp3"
    bad.write_bytes(b"not audio at all" * 100)
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "visualizer", "--play", str(bad), "--frames", "30", "--size", "32",
                             "--screenshot", str(shot)], capture_output=True, text=True,
                            env=dict(os.environ, SDL_VIDEODRIVER="dummy"), timeout=120)
    assert result.returncode == 0 and shot.exists()
    problem = [line for line in result.stderr.splitlines() if "song.mp3" in line]
    assert len(problem) == 1 and "cannot decode" in problem[0]


def test_analyze_prints_json_from_the_streaming_analyser():
    result = subprocess.run([sys.executable, "-m", "visualizer", "analyze", str(demo_paths()[0]), "--json"],
                            capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout)
    truth = json.loads(demo_paths()[1].read_text())
    assert mir_eval.onset.f_measure(np.array(truth["onsets"]), np.array(report["onsets"]), window=0.05)[0] >= 0.8
    assert len(report["beats"]) > 40 and report["tempo_bpm"]
