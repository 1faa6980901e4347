"""Files of any length are read from disk block by block (memory flat), and a file that stops
decoding part-way ends there with one line, in every path that reads files (issue 30, items 1, 5)."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc

import numpy as np
import soundfile

from devtools.faults_reliability import DEMO, long_wav
from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.engine.audio.decode import AudioReader
from visualizer.engine.audio.engine import LockstepAudio
from visualizer.engine.audio.offline import analyse_file
from visualizer.engine.audio.prefetch import Prefetcher

FLAT_BYTES = 4 * 2**20  # what reading may hold at once: a few seconds of blocks, never the file


def _cut(path, fraction=8):
    """The demo FLAC cut off after 1/``fraction`` of its bytes: the header still promises 48 s."""
    whole = DEMO.read_bytes()
    path.write_bytes(whole[: len(whole) // fraction])
    return path


def test_playback_reads_a_long_file_ahead_in_flat_memory_and_hands_over_every_sample(tmp_path):
    song = long_wav(tmp_path / "long.wav", minutes=20.0)  # 9.6 M samples: 38 MB decoded whole
    tracemalloc.start()
    try:
        reader = Prefetcher(AudioReader(song))
        reader.start()
        out = np.zeros((256, 1), np.float32)
        handed, probe = 0, None
        while not reader.ended:
            done = reader.take_into(out)
            if handed <= 5_000_000 < handed + done:
                probe = (handed, out[:done, 0].copy())
            handed += done
            if done < len(out) and not reader.ended:
                time.sleep(0.001)  # the reader fell behind: the callback would play silence here
        peak = tracemalloc.get_traced_memory()[1]
        reader.close()
    finally:
        tracemalloc.stop()
    assert handed == soundfile.info(song).frames and reader.error == ""
    start, block = probe
    assert np.array_equal(block, soundfile.read(song, start=start, frames=len(block), dtype="float32")[0])
    assert peak < FLAT_BYTES, f"{peak / 2**20:.1f} MB held while reading a 38 MB file"


def test_lockstep_opens_a_long_file_without_decoding_it_and_loops_it_seamlessly(tmp_path):
    song = long_wav(tmp_path / "long.wav", minutes=20.0)
    StreamingAnalyser(AnalysisConfig(sr=soundfile.info(song).samplerate))  # imports and compiles, once per process
    tracemalloc.start()
    try:
        audio = LockstepAudio(song, loop=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < FLAT_BYTES and audio.duration_s == 1200.0
    audio.close()
    short = tmp_path / "short.wav"
    soundfile.write(short, np.arange(1000, dtype=np.float32) / 1000, 1000)
    with AudioReader(short, loop=True) as reader:
        blocks = np.concatenate([reader.read(300)[:, 0] for _ in range(8)])  # 2400 samples: two wraps
    assert np.allclose(blocks, np.tile(np.arange(1000) / 1000, 3)[:2400], atol=1e-4)


def test_a_truncated_file_in_lockstep_ends_where_decoding_stops_with_one_line(tmp_path, caplog):
    audio = LockstepAudio(_cut(tmp_path / "cut.flac"), loop=False)
    frames = 0
    while not audio.finished and frames < 60 * 60:
        audio.advance(1 / 60)
        frames += 1
    audio.close()
    assert audio.finished and 3.0 < frames / 60 < 12.0  # ≈ 6 of the 48 s the header promises
    assert audio.problem.startswith(f"{tmp_path / 'cut.flac'}: cannot decode audio after ")
    assert audio.latest().status == "file: cut.flac (finished)" and audio.latest().silent
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [f"audio: {audio.problem}"]


def test_analyze_of_a_truncated_file_is_one_line_naming_the_time_and_exit_2(tmp_path):
    cut = _cut(tmp_path / "cut.flac")
    result = subprocess.run([sys.executable, "-m", "visualizer", "analyze", str(cut)], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "cannot decode audio after " in result.stderr
    whole = analyse_file(DEMO)  # the same path reads a sound file to its end
    assert len(whole.beats) > 50
