"""The audio engine: a source, its ring buffer, and the analysis thread that publishes snapshots.

The render loop calls ``latest()`` once per frame and never waits: the analysis thread swaps in
a new immutable FeatureSnapshot after every hop. That thread runs inside a GuardedThread: an
exception in it is logged once and shown in the snapshot's status ("audio analysis failed: …"),
and the analysis restarts. A source that fails or vanishes leaves the visuals running: the status
says "lost" and the device is looked for again every few seconds. Whether a PulseAudio source
still exists is asked on a second guarded thread, so a slow ``pactl`` never holds up the
analysis, and "could not check" never counts as gone.

``validate_choice`` checks up front, before any window opens, what the user named: a file that
is missing, empty or not audio, or an input device that does not exist, is an error then.

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
from typing import Callable

import numpy as np

from visualizer.background.guard import GuardedThread
from visualizer.engine.audio.analysis import AnalysisConfig, StreamingAnalyser
from visualizer.engine.audio.decode import (
    AudioFileError,
    AudioReader,
    check_audio_file,
    mono,
)
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.audio.sources import (
    AudioUnavailable,
    CouldNotCheck,
    FilePlayback,
    LiveInput,
    PortAudioMissing,
    alsa_messages,
    find_input_device,
    refresh_devices,
)

log = logging.getLogger(__name__)

RETRY_SECONDS = 3.0
# A live stream that delivers nothing for this long is reopened. PulseAudio's monitor sources
# deliver in chunks of up to 2 s, and a loaded 2-core machine can hold a callback back further.
STALL_SECONDS = 6.0
DEVICE_CHECK_SECONDS = 2.0  # how often a PulseAudio source is asked to still exist
REPORT_SECONDS = 60.0  # xruns, ALSA messages and lost frames are logged at most this often
CLOSE_TIMEOUT_S = 2.0  # a stream whose close hangs (a dead sound server) is left to a daemon thread
REFRESH_SECONDS = 15.0  # while a device is lost, PortAudio's device list is re-read at most this often


# Receives each block of samples the engine analyses: float32 (n, channels) (valid during the call
# only), and the sample rate in Hz.
SampleListener = Callable[[np.ndarray, int], None]


def quiet(snapshot: FeatureSnapshot, status: str) -> FeatureSnapshot:
    """``snapshot`` with ``status``, silent and with zero levels (no source, or none delivering)."""
    return replace(snapshot, status=status, silent=True, energy=0.0, bass=0.0, mid=0.0, high=0.0)


@dataclass(frozen=True)
class AudioChoice:
    """What to listen to: kind "demo", "file" (path), "input" (device query) or "none".

    loop : play the file again when it ends (the demo always loops); without it the engine
        reports ``finished`` so the caller can end the run.
    """

    kind: str = "demo"
    path: Path | None = None
    device: str | None = None
    loop: bool = False


def validate_choice(choice: AudioChoice) -> None:
    """Check what the user named before anything opens; raise what cannot work.

    Raises AudioFileError for a missing, empty or undecodable file, AudioUnavailable for an
    input that matches no device or several (after PortAudio has listed its devices afresh, in
    case the sound server was not answering when it first did). Says nothing when it cannot tell
    (PortAudio missing, PulseAudio not answering): the engine then reports and retries while the
    visuals run.
    """
    if choice.kind == "file":
        check_audio_file(choice.path)
    elif choice.kind == "demo":
        check_audio_file(demo_paths()[0])
    elif choice.kind == "input":
        try:
            _find_with_a_fresh_list(choice.device)
        except (PortAudioMissing, CouldNotCheck) as e:
            log.debug("input %r not checked up front: %s", choice.device, e)


def _find_with_a_fresh_list(query: str) -> None:
    """find_input_device, asked again over a fresh PortAudio device list before a definite no."""
    try:
        find_input_device(query)
    except AudioUnavailable as e:
        if isinstance(e, (PortAudioMissing, CouldNotCheck)):
            raise
        refresh_devices()
        find_input_device(query)


class AudioEngine:
    """Real-time audio: a PortAudio source plus a guarded analysis thread.

    Attributes read by the render thread (never waiting): ``latest()``, ``finished`` (a file
    without loop has been heard to its end), ``problem`` (the latest trouble, one line),
    ``device_check`` ("" or why the device could not be checked), ``events`` (recent
    (kind, stream time) onsets and beats), ``reconnects``.
    """

    def __init__(self, choice: AudioChoice):
        self.choice = choice
        self._snapshot = FeatureSnapshot(status="starting")
        self._source: LiveInput | FilePlayback | None = None
        self._analyser: StreamingAnalyser | None = None
        self._requests: deque[str] = deque()  # "tap"/"clear" from the render thread
        self.problem = ""
        self.device_check = ""
        self.finished = False
        self.reconnects = 0
        self.events: deque[tuple[str, float]] = deque(maxlen=1024)  # recent (kind, stream time) events
        self.on_samples: SampleListener | None = None  # e.g. a recording, called on the analysis thread
        self._present: bool | None = True
        self._next_try = 0.0
        self._gave_up = False  # a file that cannot be played: no retries, the visuals go on
        self._refreshed_at = -REFRESH_SECONDS
        self._reported = (0, 0, 0, 0)  # xruns, ALSA messages, lost frames, reconnects at the last report
        self._analysis = GuardedThread("audio analysis", self._run, on_failure=self._analysis_failed)
        self._watch = GuardedThread("audio device check", self._watch_device)

    # -- render-thread API -------------------------------------------------------------------
    def latest(self) -> FeatureSnapshot:
        return self._snapshot

    def advance(self, dt_s: float) -> None:
        """Real time moves by itself."""

    def tap(self) -> None:
        self._requests.append("tap")

    def clear_tap(self) -> None:
        self._requests.append("clear")

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop both threads (the analysis thread closes the stream) and wait up to ``timeout_s``."""
        self._watch.stop_event.set()
        if not self._analysis.close(timeout_s):
            self._close_source()  # a stuck analysis must not leave a stream open for PortAudio's exit
        self._watch.close(timeout_s)

    # -- analysis thread -----------------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                if self.finished or self._gave_up:
                    stop.wait(0.1)
                elif self._source is None:
                    self._try_open(stop)
                else:
                    self._pump()
        finally:
            if stop.is_set():
                self._close_source()

    def _try_open(self, stop: threading.Event) -> None:
        if stop.wait(max(0.0, self._next_try - time.monotonic())):
            return
        lost = self._analyser is not None
        try:
            self._open()
            return
        except CouldNotCheck as e:  # no answer is not "absent": say so, and ask again soon
            self._fail(f"{e}; retrying every {RETRY_SECONDS:.0f} s", "lost" if lost else "starting")
        except AudioUnavailable as e:
            self._fail(f"{e}; retrying every {RETRY_SECONDS:.0f} s" if lost else str(e), "lost" if lost else "none")
            if lost and not isinstance(e, PortAudioMissing):
                self._refresh_devices()
        except AudioFileError as e:  # retrying will not mend the file
            self._fail(str(e), "none")
            self._gave_up = True
            return
        self._next_try = time.monotonic() + RETRY_SECONDS

    def _refresh_devices(self) -> None:
        """A re-plugged device may have a new index, or be new to PortAudio (which lists devices
        once, at start-up): re-read the list, not more often than every ``REFRESH_SECONDS``."""
        now = time.monotonic()
        if now - self._refreshed_at >= REFRESH_SECONDS:
            self._refreshed_at = now
            refresh_devices()

    def _open(self) -> None:
        c = self.choice
        if c.kind == "input":
            source = LiveInput(c.device)
        else:
            path = demo_paths()[0] if c.kind == "demo" else c.path
            source = FilePlayback(path, loop=c.loop or c.kind == "demo")
        source.open()
        self._source = source
        self._present = True
        if self._analyser is None or self._analyser.config.sr != source.sr:
            self._analyser = StreamingAnalyser(AnalysisConfig(sr=source.sr))
        else:
            self.reconnects += 1
        self._scratch = np.zeros((4 * self._analyser.config.hop, source.channels), np.float32)
        self._last_data = time.monotonic()
        self._awaiting_data = True
        # a source that opens and then delivers nothing (a suspended sink) is retried for as long
        # as it lasts: only the first open is logged at INFO, a recovery when audio arrives
        log.log(logging.DEBUG if self.problem else logging.INFO, "audio: %s (%s, %d Hz)",
                source.label, source.kind, source.sr)

    def _close_source(self) -> None:
        """Close the source, waiting at most ``CLOSE_TIMEOUT_S``: PortAudio's close can hang on a
        sound server that died, and the analysis thread must go on to report and reconnect."""
        source, self._source = self._source, None
        if source is None:
            return
        closer = threading.Thread(target=source.close, name="audio-close", daemon=True)
        closer.start()
        closer.join(CLOSE_TIMEOUT_S)
        if closer.is_alive():
            log.warning("audio: closing %s takes longer than %.0f s; going on without it", source.label,
                        CLOSE_TIMEOUT_S)

    def _fail(self, message: str, status: str) -> None:
        if message != self.problem:
            log.warning("audio: %s", message)
        self.problem = message
        self._snapshot = quiet(self._analyser.snapshot if self._analyser else FeatureSnapshot(), status)

    def _analysis_failed(self, error: BaseException) -> None:
        """The guard caught ``error`` in the analysis: show it now (the guard restarts ``_run``;
        the open stream keeps filling the ring meanwhile)."""
        self.problem = self._analysis.status
        self._snapshot = quiet(self._snapshot, self._analysis.status)

    def _lose(self, source, why: str) -> None:
        self._fail(f"{source.label} {why}; retrying every {RETRY_SECONDS:.0f} s", "lost")  # shown first
        self._close_source()
        self._next_try = time.monotonic() + RETRY_SECONDS

    def _pump(self) -> None:
        """One step: pass on key requests, take what the ring holds (up to what has been heard),
        then lose the source, wait, finish, or analyse."""
        source = self._source
        while self._requests:
            self._analyser.tap() if self._requests.popleft() == "tap" else self._analyser.clear_tap()
        n = source.ring.read_into(self._scratch, limit=source.ring.written - source.delay_frames)
        why = self._why_lost(source, delivered=n > 0)
        if why:
            self._lose(source, why)
        elif n > 0:
            self._analyse(source, self._scratch[:n])
        elif source.kind == "file" and source.finished and source.ring.read >= source.end_frame:
            self._stop_playing(source)
        else:
            time.sleep(0.002)

    def _why_lost(self, source, *, delivered: bool) -> str:
        """Why ``source`` counts as lost ("" if it does not): only definite answers count."""
        if self._present is False:
            return "is gone"
        if not source.alive:
            return "stopped (unplugged or the sound server went away?)"
        if not delivered and source.kind == "live" and time.monotonic() - self._last_data > STALL_SECONDS:
            return f"delivered no audio for {STALL_SECONDS:.0f} s"
        return ""

    def _analyse(self, source, frames: np.ndarray) -> None:
        """Push ``frames`` (n, channels) to the analyser and publish the new snapshot."""
        self._last_data = time.monotonic()
        if self._awaiting_data:
            self._first_data(source)
        if self.on_samples is not None:
            self.on_samples(frames, source.sr)
        self.events.extend(self._analyser.push(mono(frames)))
        x = source.xruns
        self._snapshot = self._analyser.with_device_counts(
            overflows=x.input_overflows + x.input_underflows, underruns=x.output_underflows + x.output_overflows,
            status=self._status(source))

    def _first_data(self, source) -> None:
        """Audio arrives from a freshly opened source: any earlier trouble is over."""
        self._awaiting_data = False
        if self.problem and not self._analysis.status:
            log.info("audio: %s delivers again", source.label)
            self.problem = ""

    def _status(self, source) -> str:
        status = f"{source.kind}: {source.label}"
        if self.device_check:
            status += f" (could not check it: {self.device_check})"
        trouble = self._analysis.status or self._watch.status
        return f"{status}; {trouble}" if trouble else status

    def _stop_playing(self, source: FilePlayback) -> None:
        """The file has been heard to its end: say so, go quiet, and let the caller end the run.
        A file that stopped decoding part-way (damaged, truncated) is heard up to there; then the
        one line saying so is logged and shown, and the visuals go on without audio."""
        self._close_source()
        if source.error:
            self._fail(f"{source.error}; playback stopped there, the visuals go on", f"file: {source.label} (stopped)")
            self._gave_up = True
            return
        self._snapshot = quiet(self._analyser.snapshot, f"file: {source.label} (finished)")
        self.finished = True
        log.info("audio: %s finished", source.label)

    # -- device-check thread -------------------------------------------------------------------
    def _watch_device(self, stop: threading.Event) -> None:
        """Every few seconds: does the source still exist (a definite False makes the analysis
        thread reconnect; None is shown, not acted on), and the once-a-minute trouble report."""
        next_report = time.monotonic() + REPORT_SECONDS
        while not stop.wait(DEVICE_CHECK_SECONDS):
            source = self._source
            if source is not None:
                present = source.present()
                if source is self._source:
                    self._present = present
                self.device_check = "" if present is not None else "PulseAudio did not answer"
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + REPORT_SECONDS
                self._report(source)

    def _report(self, source) -> None:
        """Log what went wrong in the last minute, in one line, if anything did."""
        xruns = source.xruns if source is not None else None
        now = (xruns.total if xruns else 0, alsa_messages.count,
               source.ring.overflows if source is not None else 0, self.reconnects)
        new = [b - a for a, b in zip(self._reported, now)]
        self._reported = now
        if not any(n > 0 for n in new):
            return
        parts = []
        if xruns and new[0] > 0:
            parts.append(f"{xruns.input_overflows} input overflows, {xruns.output_underflows} output underflows so far")
        if new[1] > 0:
            parts.append(f"{new[1]} ALSA messages (latest: {alsa_messages.latest})")
        if new[2] > 0:
            parts.append(f"{new[2]} frames lost by a late analysis")
        if new[3] > 0:
            parts.append(f"{new[3]} reconnects")
        log.warning("audio trouble in the last minute: %s", "; ".join(parts))


class LockstepAudio:
    """The analyser fed from a file in step with the frames (headless runs), read from disk
    block by block (memory flat whatever the length). A decoding error part-way ends the file
    there, like its end, with ``problem`` saying so in one line."""

    def __init__(self, path: Path, *, loop: bool = True):
        self._reader = AudioReader(path, loop=loop)
        self.loop = loop
        self.label = path.name
        self.sr = self._reader.sr
        self.duration_s = self._reader.duration_s  # the header's length
        self.analyser = StreamingAnalyser(AnalysisConfig(sr=self.sr))
        self.finished = False  # the file (loop=False) has been fed to its end
        self.problem = ""
        self._position = 0.0  # frames owed since the start (fractional: frames of 1/60 s)
        self._fed = 0
        self._snapshot = replace(self.analyser.snapshot, status=f"file: {self.label} (lockstep)")
        self.on_samples: SampleListener | None = None

    def latest(self) -> FeatureSnapshot:
        return self._snapshot

    def advance(self, dt_s: float) -> None:
        """Feed the next ``dt_s`` seconds of samples."""
        if self.finished:
            return
        self._position += dt_s * self.sr
        wanted = int(self._position) - self._fed
        try:
            block = mono(self._reader.read(wanted)) if wanted > 0 else np.zeros(0, np.float32)
        except AudioFileError as e:
            self.problem = f"{e}; the file ends there"
            log.warning("audio: %s", self.problem)
            block, wanted = np.zeros(0, np.float32), 1
        self._fed += block.size
        if block.size:
            if self.on_samples is not None:
                self.on_samples(block[:, None], self.sr)
            self.analyser.push(block)
            self._snapshot = replace(self.analyser.snapshot, status=f"file: {self.label} (lockstep)")
        if block.size < wanted or (not self.loop and self._fed >= self._reader.frames):
            self.finished = True
            self._snapshot = quiet(self.analyser.snapshot, f"file: {self.label} (finished)")

    def tap(self) -> None:
        self.analyser.tap()

    def clear_tap(self) -> None:
        self.analyser.clear_tap()

    def close(self) -> None:
        self._reader.close()


class NoAudio:
    """Silence: ``--no-audio``."""

    problem = ""
    finished = False
    on_samples: SampleListener | None = None  # never called: there are no samples

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


def open_audio(choice: AudioChoice, *, headless: bool) -> AudioEngine | LockstepAudio | NoAudio:
    """The audio engine for ``choice``; headless file/demo runs analyse in lockstep with frames."""
    if choice.kind == "none":
        return NoAudio()
    path = demo_paths()[0] if choice.kind == "demo" else choice.path
    if headless and choice.kind in ("demo", "file"):
        return LockstepAudio(path, loop=choice.loop or choice.kind == "demo")
    return AudioEngine(AudioChoice(choice.kind, path, choice.device, choice.loop))
