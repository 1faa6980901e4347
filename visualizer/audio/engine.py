"""The audio engine: a source, its ring buffer, and the analysis thread that publishes snapshots.

The render loop calls ``latest()`` once per frame and never waits: the analysis thread swaps in
a new immutable FeatureSnapshot after every hop. A source that fails or vanishes leaves the
visuals running: the status says "lost" and the device is looked for again every few seconds.

``LockstepAudio`` runs the same analyser in the render thread, fed exactly one frame's worth of
samples per frame: headless runs are deterministic and faster than real time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from visualizer.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.audio.decode import AudioFileError, load_audio, mono
from visualizer.audio.features import FeatureSnapshot
from visualizer.audio.sources import AudioUnavailable, FilePlayback, LiveInput

log = logging.getLogger(__name__)

RETRY_SECONDS = 3.0
STALL_SECONDS = 2.5  # a live stream that delivers nothing for this long is lost


@dataclass(frozen=True)
class AudioChoice:
    """What to listen to: kind "demo", "file" (path), "input" (device query) or "none"."""

    kind: str = "demo"
    path: Path | None = None
    device: str | None = None


class AudioEngine:
    """Real-time audio: a PortAudio source plus an analysis thread."""

    def __init__(self, choice: AudioChoice):
        self.choice = choice
        self._snapshot = FeatureSnapshot(status="starting")
        self._source: LiveInput | FilePlayback | None = None
        self._analyser: StreamingAnalyser | None = None
        self._stop = threading.Event()
        self._requests: list[str] = []  # "tap"/"clear" from the render thread
        self.problem = ""
        self.events: deque[tuple[str, float]] = deque(maxlen=1024)  # recent (kind, stream time) events
        self._thread = threading.Thread(target=self._run, name="audio-analysis", daemon=True)
        self._thread.start()

    # -- render-thread API -------------------------------------------------------------------
    def latest(self) -> FeatureSnapshot:
        return self._snapshot

    def advance(self, dt_s: float) -> None:
        """Real time moves by itself."""

    def tap(self) -> None:
        self._requests.append("tap")

    def clear_tap(self) -> None:
        self._requests.append("clear")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    # -- analysis thread -----------------------------------------------------------------------
    def _open(self) -> None:
        c = self.choice
        source = LiveInput(c.device) if c.kind == "input" else FilePlayback(c.path, loop=c.kind == "demo")
        source.open()
        self._source = source
        if self._analyser is None or self._analyser.config.sr != source.sr:
            self._analyser = StreamingAnalyser(AnalysisConfig(sr=source.sr))
        self._scratch = np.zeros((4 * self._analyser.config.hop, source.channels), np.float32)
        self._last_data = time.monotonic()
        log.info("audio: %s (%s, %d Hz)", source.label, source.kind, source.sr)

    def _fail(self, message: str, status: str) -> None:
        if message != self.problem:
            log.warning("audio: %s", message)
        self.problem = message
        self._snapshot = replace(self._analyser.snapshot if self._analyser else FeatureSnapshot(), status=status,
                                 silent=True, energy=0.0, bass=0.0, mid=0.0, high=0.0)

    def _run(self) -> None:
        next_try = 0.0
        while not self._stop.is_set():
            if self._source is None:
                if time.monotonic() < next_try:
                    time.sleep(0.05)
                    continue
                try:
                    self._open()
                    self.problem = ""
                except AudioUnavailable as e:
                    lost = self._analyser is not None
                    self._fail(f"{e}; retrying every {RETRY_SECONDS:.0f} s" if lost else str(e),
                               "lost" if lost else "none")
                    next_try = time.monotonic() + RETRY_SECONDS
                    continue
                except AudioFileError as e:  # retrying will not mend the file
                    self._fail(str(e), "none")
                    next_try = float("inf")
                    continue
                except Exception as e:  # a broken host audio stack must not take the visuals down
                    self._fail(f"audio failed: {e}", "none")
                    next_try = time.monotonic() + RETRY_SECONDS
                    continue
            self._pump()
        if self._source is not None:
            self._source.close()

    def _pump(self) -> None:
        source, analyser = self._source, self._analyser
        while self._requests:
            analyser.tap() if self._requests.pop(0) == "tap" else analyser.clear_tap()
        limit = source.ring.written - source.delay_frames
        n = source.ring.read_into(self._scratch, limit=limit)
        now = time.monotonic()
        stalled = n == 0 and source.kind == "live" and now - self._last_data > STALL_SECONDS
        if stalled or not source.alive:
            source.close()
            self._source = None
            self._fail(f"{source.label} stopped delivering audio (unplugged?); retrying every "
                       f"{RETRY_SECONDS:.0f} s", "lost")
            return
        if n == 0:
            time.sleep(0.002)
            return
        self._last_data = now
        self.events.extend(analyser.push(mono(self._scratch[:n])))
        self._snapshot = analyser.with_device_counts(
            overflows=source.ring.overflows, underruns=source.xruns, status=f"{source.kind}: {source.label}")


class LockstepAudio:
    """The analyser fed from a decoded file in step with the frames (headless runs)."""

    def __init__(self, path: Path, *, loop: bool = True):
        samples, sr = load_audio(path)
        self.samples = mono(samples)
        self.loop = loop
        self.label = path.name
        self.analyser = StreamingAnalyser(AnalysisConfig(sr=sr))
        self.sr = sr
        self._position = 0.0
        self._snapshot = replace(self.analyser.snapshot, status=f"file: {self.label} (lockstep)")

    def latest(self) -> FeatureSnapshot:
        return self._snapshot

    def advance(self, dt_s: float) -> None:
        """Feed the next ``dt_s`` seconds of samples."""
        start = int(self._position)
        self._position += dt_s * self.sr
        end = int(self._position)
        if self.loop:
            block = np.take(self.samples, np.arange(start, end), mode="wrap")
        else:
            block = self.samples[start:end]
        if block.size:
            self.analyser.push(block)
            self._snapshot = replace(self.analyser.snapshot, status=f"file: {self.label} (lockstep)")

    def tap(self) -> None:
        self.analyser.tap()

    def clear_tap(self) -> None:
        self.analyser.clear_tap()

    def close(self) -> None:
        pass


class NoAudio:
    """Silence: ``--no-audio``."""

    problem = ""

    def __init__(self, status: str = "none"):
        self._snapshot = FeatureSnapshot(status=status)

    def latest(self) -> FeatureSnapshot:
        return self._snapshot

    def advance(self, dt_s: float) -> None:
        pass

    def tap(self) -> None:
        pass

    def clear_tap(self) -> None:
        pass

    def close(self) -> None:
        pass
