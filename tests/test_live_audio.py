"""Live audio through a real PulseAudio server: capture a null sink's monitor, play into it.

The engine's faults (the sound server killed, the sink removed, the source suspended, pactl
hanging or failing, the callback stalling, an exception in the analysis, PortAudio missing) are
rows of the fault table, run against the same private server by ``tests/test_faults.py``."""

import json
import logging
import os
import subprocess
import sys
import time

import mir_eval
import numpy as np
import pytest
import scipy.signal
import soundfile

from visualizer.engine.audio import sources
from visualizer.engine.audio.decode import AudioFileError, load_audio
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.engine import (
    AudioChoice,
    AudioEngine,
    LockstepAudio,
    validate_choice,
)
from visualizer.engine.audio.sources import (
    AudioUnavailable,
    FilePlayback,
    list_input_devices,
)


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
    """Play the demo track into a null sink and listen to its monitor, as a user listening to
    their computer's output would. Honest margins for a loaded machine: up to 60 s to find the
    device, a stall threshold above PulseAudio's 2 s monitor chunks, and ``seconds`` of the track
    heard in stream time from its first onset, however late paplay starts (4.7 s at load 18: a
    fixed 20 s on the wall clock then held only 15 s of the track); onsets must still match the
    ground truth within 50 ms."""
    audio_path, truth_path = demo_paths()
    truth = json.loads(truth_path.read_text())
    seconds = 20.0
    engine = AudioEngine(AudioChoice("input", device=f"{null_sink}.monitor"))

    def first_onset() -> float | None:
        return next((t for kind, t in list(engine.events) if kind == "onset"), None)

    try:
        assert wait_for(lambda: engine.latest().status.startswith("live"), 60), engine.problem
        start_stream_s = engine.latest().time_s
        engine.events.clear()
        player = subprocess.Popen(["paplay", f"--device={null_sink}", str(audio_path)])
        try:
            assert wait_for(lambda: first_onset() is not None, 60), f"nothing heard: {engine.problem!r}"
            began_s = first_onset()  # the track's first onset is at 0.0 s
            assert wait_for(lambda: engine.latest().time_s >= began_s + seconds, 120), engine.problem
        finally:
            player.kill()
            player.wait(10)
        final = engine.latest()
        events = list(engine.events)
        onsets = [t for kind, t in events if kind == "onset"]
        beats = np.array([t for kind, t in events if kind == "beat"]) - start_stream_s
        lost_frames = engine._source.ring.overflows if engine._source else None
    finally:
        engine.close()
    true_onsets = np.array([t for t in truth["onsets"] if t < seconds - 1.5])
    ours = np.array(onsets) - start_stream_s

    def f_at(shift):
        return mir_eval.onset.f_measure(true_onsets, ours[ours - shift < seconds - 1.5] - shift, window=0.05)[0]

    late = began_s - start_stream_s  # when paplay started, to an onset or two (the detector may miss the first)
    shift = max(np.arange(late - 1.5, late + 1.0, 0.005), key=f_at)
    diagnosis = (f"onset F {f_at(shift):.2f} at shift {shift:.3f} s; reconnects {engine.reconnects}, "
                 f"xruns {final.overflows}/{final.underruns}, frames lost {lost_frames}, problem {engine.problem!r}")
    assert engine.reconnects == 0 and lost_frames == 0, diagnosis
    assert f_at(shift) >= 0.8, diagnosis
    # the beats in the 4..18 s groove, once locked, against the track's own (mir_eval, ±70 ms)
    in_groove = lambda t: t[(t > 8.0) & (t < 17.0)]  # noqa: E731
    beat_f = mir_eval.beat.f_measure(in_groove(np.array(truth["beats"])), in_groove(beats - shift))
    assert beat_f >= 0.75, f"{diagnosis}; groove beat F {beat_f:.2f}"  # the file, analysed offline: 0.81


def test_file_playback_plays_the_exact_samples_into_the_sink(null_sink, tmp_path):
    capture = tmp_path / "capture.wav"
    recorder = subprocess.Popen(["parecord", f"--device={null_sink}.monitor", "--latency-msec=50",
                                 "--file-format=wav", str(capture)])
    # recording once samples follow the WAV header (idle: 1.4 s after the start; a fixed wait lost the race under load)
    assert wait_for(lambda: capture.exists() and capture.stat().st_size > 44, 60), "parecord never recorded"
    os.environ["PULSE_SINK"] = null_sink
    try:
        # a null sink pulls 2 s chunks: PortAudio's ALSA-pulse bridge keeps real time only with a deep buffer
        playback = FilePlayback(demo_paths()[0], latency_s=1.0)
        playback.open()
        assert wait_for(lambda: playback.ring.written > 2.6 * playback.sr, 60)
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
    source = load_audio(demo_paths()[0])[0][:played_frames, 0]  # the file as decoded whole
    rec = recorded[:, 0]
    # find one second from inside what was played in the recording, then compare the waveforms
    probe = source[sr: 2 * sr]
    lag = int(np.argmax(scipy.signal.correlate(rec, probe, mode="valid", method="fft")))
    segment = rec[lag:lag + probe.size]
    # 16-bit through the server, resampled by the ALSA-pulse bridge: not bit-exact, the same waveform
    assert np.corrcoef(segment, probe)[0, 1] > 0.99
    assert np.sqrt(np.mean((segment - probe) ** 2)) < 0.05 * np.sqrt(np.mean(probe ** 2))


def test_an_unreadable_file_is_one_line_and_exit_2_before_any_window(tmp_path):
    bad = tmp_path / "song.mp3"
    bad.write_bytes(b"not audio at all" * 100)
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "visualizer", "--play", str(bad), "--frames", "30", "--size", "32",
                             "--screenshot", str(shot)], capture_output=True, text=True,
                            env=dict(os.environ, SDL_VIDEODRIVER="dummy"), timeout=240)
    assert result.returncode == 2 and not shot.exists()
    problem = [line for line in result.stderr.splitlines() if "song.mp3" in line]
    assert len(problem) == 1 and result.stderr.strip().count("\n") == 0, result.stderr


def test_analyze_prints_json_from_the_streaming_analyser():
    # 14 s at load 15 (5 s of CPU): 240 s is a bound for a hang, below pytest's 300 s per test
    result = subprocess.run([sys.executable, "-m", "visualizer", "analyze", str(demo_paths()[0]), "--json"],
                            capture_output=True, text=True, timeout=240)
    report = json.loads(result.stdout)
    truth = json.loads(demo_paths()[1].read_text())
    assert mir_eval.onset.f_measure(np.array(truth["onsets"]), np.array(report["onsets"]), window=0.05)[0] >= 0.8
    assert len(report["beats"]) > 40 and report["tempo_bpm"]


def _tone_file(path, *, seconds, sr=44100):
    t = np.arange(int(seconds * sr)) / sr
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 440 * t) * (t % 0.5 < 0.1)).astype(np.float32), sr)
    return path


def test_a_file_that_ends_without_loop_reports_finished(null_sink, tmp_path, monkeypatch):
    monkeypatch.setenv("PULSE_SINK", null_sink)
    song = _tone_file(tmp_path / "short.wav", seconds=1.5)
    engine = AudioEngine(AudioChoice("file", path=song))
    try:
        assert wait_for(lambda: engine.finished, 30), (engine.latest().status, engine.problem)
        final = engine.latest()
    finally:
        engine.close()
    assert final.status == "file: short.wav (finished)" and final.silent
    assert final.time_s >= 1.5 - 512 / 44100  # every sample was analysed before it said so
    assert final.onset_count >= 2


def test_a_looping_file_never_finishes(null_sink, tmp_path, monkeypatch):
    monkeypatch.setenv("PULSE_SINK", null_sink)
    song = _tone_file(tmp_path / "loop.wav", seconds=0.5)
    engine = AudioEngine(AudioChoice("file", path=song, loop=True))
    try:
        assert wait_for(lambda: engine.latest().time_s > 1.6, 30), (engine.latest().status, engine.problem)
        assert not engine.finished and engine.latest().status.startswith("file: loop.wav")
    finally:
        engine.close()


def test_input_monitor_with_several_monitors_listens_to_the_default_sinks(make_null_sink, caplog):
    first, second = make_null_sink("first"), make_null_sink("second")
    before = subprocess.run(["pactl", "get-default-sink"], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["pactl", "set-default-sink", second], check=True)
    try:
        with caplog.at_level(logging.INFO, logger="visualizer.engine.audio.sources"):
            validate_choice(AudioChoice("input", device="monitor"))  # not an ambiguity error
            engine = AudioEngine(AudioChoice("input", device="monitor"))
            try:
                assert wait_for(lambda: engine.latest().status.startswith("live"), 60), engine.problem
                status = engine.latest().status
            finally:
                engine.close()
    finally:
        subprocess.run(["pactl", "set-default-sink", before], check=True)
    assert status.startswith(f"live: pulse:{second}.monitor")
    said = [r.getMessage() for r in caplog.records if "default output's monitor" in r.getMessage()]
    assert said and said[-1].endswith(f"listening to the default output's monitor pulse:{second}.monitor")
    assert first != second


def test_validate_choice_rejects_what_the_user_named_that_cannot_work(null_sink, tmp_path):
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros((0, 1), np.float32), 44100)
    junk = tmp_path / "song.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    for path, says in ((tmp_path / "missing.flac", "no such audio file"), (empty, "holds no audio"),
                       (junk, "cannot decode audio"), (tmp_path, "no such audio file")):
        with pytest.raises(AudioFileError, match=says) as caught:
            validate_choice(AudioChoice("file", path=path))
        assert "\n" not in str(caught.value)
    with pytest.raises(AudioUnavailable, match="no input device matches 'no-such-device-xyz'"):
        validate_choice(AudioChoice("input", device="no-such-device-xyz"))
    validate_choice(AudioChoice("input", device=f"{null_sink}.monitor"))
    validate_choice(AudioChoice("file", path=demo_paths()[0]))


def test_validate_choice_does_not_call_an_unanswered_pactl_an_error(null_sink, tmp_path, monkeypatch):
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "pactl").write_text("#!/bin/sh\nexec sleep 60\n")
    (shim / "pactl").chmod(0o755)
    monkeypatch.setattr(sources, "PACTL_TIMEOUT_S", 0.3)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    validate_choice(AudioChoice("input", device=f"{null_sink}.monitor"))  # could not check: no error
    with pytest.raises(sources.CouldNotCheck, match="did not answer within 0.3 s"):
        sources.find_input_device(f"{null_sink}.monitor")


def test_xruns_are_counted_by_kind_from_portaudios_callback_flags():
    import sounddevice as sd

    xruns = sources.Xruns()
    for flags in (sd._lib.paInputOverflow, sd._lib.paInputOverflow, sd._lib.paOutputUnderflow,
                  sd._lib.paInputUnderflow | sd._lib.paOutputOverflow, sd._lib.paPrimingOutput):
        xruns.add(sd.CallbackFlags(flags))
    counted = (xruns.input_overflows, xruns.output_underflows, xruns.input_underflows, xruns.output_overflows)
    assert counted == (2, 1, 1, 1)
    assert xruns.total == 5


def test_alsa_messages_are_counted_not_printed(capfd):
    import ctypes
    import ctypes.util

    sources.import_sounddevice()  # installs the handler
    asound = ctypes.CDLL(ctypes.util.find_library("asound"))
    before = sources.alsa_messages.count
    pcm = ctypes.c_void_p()
    assert asound.snd_pcm_open(ctypes.byref(pcm), b"no_such_pcm_device", 0, 0) < 0
    assert sources.alsa_messages.count > before
    assert "no_such_pcm_device" not in capfd.readouterr().err


def test_lockstep_file_playback_reports_finished_at_the_end_unless_it_loops(tmp_path):
    song = _tone_file(tmp_path / "short.wav", seconds=1.0)
    once, looping = LockstepAudio(song, loop=False), LockstepAudio(song, loop=True)
    for _ in range(59):
        once.advance(1 / 60)
        looping.advance(1 / 60)
    assert not once.finished and once.latest().status == "file: short.wav (lockstep)"
    once.advance(1 / 60)
    assert once.finished and once.latest().status == "file: short.wav (finished)" and once.latest().silent
    for _ in range(120):
        looping.advance(1 / 60)
    assert not looping.finished and looping.latest().time_s > 2.5
