"""``visualizer analyze``: the streaming analyser run over a file hop by hop, faster than real time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.engine.audio.decode import AudioReader, mono

BLOCK = 256  # samples per push, like a small audio callback


@dataclass
class AnalysisReport:
    """Events as the streaming analyser reported them, at the moment it reported them.

    onsets, beats, downbeats : event times (s). reported_at : stream time when each onset was
    emitted (s); beats and downbeats are reported at their own time (predictions, never late).
    tempo_bpm : (time_s, bpm) each time the tempo estimate changed.
    """

    onsets: list[float] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)
    downbeats: list[float] = field(default_factory=list)
    onset_reported_at: list[float] = field(default_factory=list)
    tempo_bpm: list[tuple[float, float]] = field(default_factory=list)

    def final_tempo(self) -> float:
        """Median of the tempo estimates held at the last eight reported beats (0 if none)."""
        held = []
        for beat in self.beats[-8:]:
            before = [bpm for t, bpm in self.tempo_bpm if t <= beat + 1e-9]
            if before:
                held.append(before[-1])
        return float(np.median(held)) if held else 0.0

    def as_dict(self) -> dict:
        return {"onsets": [round(t, 4) for t in self.onsets], "beats": [round(t, 4) for t in self.beats],
                "downbeats": [round(t, 4) for t in self.downbeats],
                "tempo_bpm": [[round(t, 3), round(b, 2)] for t, b in self.tempo_bpm]}


def analyse_samples(samples: np.ndarray, *, sr: int, block: int = BLOCK) -> AnalysisReport:
    """Feed mono float32 ``samples`` through a fresh StreamingAnalyser in ``block``-sized pushes."""
    return analyse_blocks((samples[start:start + block] for start in range(0, samples.size, block)), sr=sr)


def analyse_blocks(blocks: Iterable[np.ndarray], *, sr: int) -> AnalysisReport:
    """Feed mono float32 ``blocks`` (each a push, like an audio callback's) through a fresh
    StreamingAnalyser, recording its events as it reported them."""
    analyser = StreamingAnalyser(AnalysisConfig(sr=sr))
    report = AnalysisReport()
    for samples in blocks:
        for kind, t in analyser.push(samples):
            {"onset": report.onsets, "beat": report.beats, "downbeat": report.downbeats}[kind].append(t)
            if kind == "onset":
                report.onset_reported_at.append(analyser.time_s)
        tempo = analyser.snapshot.tempo_bpm
        if tempo and (not report.tempo_bpm or abs(report.tempo_bpm[-1][1] - tempo) > 1e-6):
            report.tempo_bpm.append((analyser.time_s, tempo))
    return report


def analyse_file(path) -> AnalysisReport:
    """``analyse_blocks`` over an audio file (any format the decoder takes), mixed to mono and read
    from disk block by block (memory flat whatever the length). AudioFileError if it cannot be
    decoded, including part-way."""
    with AudioReader(path) as reader:
        return analyse_blocks(_mono_blocks(reader), sr=reader.sr)


def _mono_blocks(reader: AudioReader) -> Iterator[np.ndarray]:
    while len(samples := reader.read(BLOCK)):
        yield mono(samples)
