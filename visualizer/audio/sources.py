"""Audio sources: live input (devices and PulseAudio/PipeWire sources), file playback, demo.

Each source opens a PortAudio stream through sounddevice whose callback does one thing: copy
the block into the ring buffer (and, for playback, the next file samples into the output).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.audio.decode import load_audio
from visualizer.audio.ring import RingBuffer

log = logging.getLogger(__name__)

RING_SECONDS = 4.0
PULSE_CHECK_SECONDS = 2.0  # how often a PulseAudio source is checked to still exist
BLOCK_FRAMES = 256  # ≈ 5.8 ms at 44.1 kHz
INPUT_LATENCY = "high"  # PortAudio's ALSA-pulse bridge drops and repeats blocks at "low" under load
PULSE_PREFIX = "pulse:"


class AudioUnavailable(RuntimeError):
    """Audio cannot be used (no PortAudio, no such device, ...); the message says how to fix it."""


def import_sounddevice():
    """sounddevice, or AudioUnavailable with the fix when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError:
        raise AudioUnavailable("PortAudio library not found: install it (Debian/Ubuntu: sudo apt install "
                               "libportaudio2; macOS: brew install portaudio) or run with --no-audio") from None
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    """An input the user can choose: a PortAudio device, or a PulseAudio/PipeWire source
    (``pulse:NAME``, e.g. a sink's ``.monitor`` = what the computer is playing)."""

    name: str
    index: int | None  # PortAudio device index (the "pulse" device for PulseAudio sources)
    channels: int
    default_samplerate: float
    pulse_source: str | None = None


def pulse_sources() -> list[str]:
    """Names of PulseAudio/PipeWire sources (monitors included), if ``pactl`` is available."""
    if shutil.which("pactl") is None:
        return []
    try:
        out = subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split("\t")[1] for line in out.stdout.splitlines() if line.count("\t") >= 1]


def list_input_devices() -> list[InputDevice]:
    """Every input: PortAudio's devices, then each PulseAudio source through the "pulse" device."""
    sd = import_sounddevice()
    devices = []
    pulse_index = None
    for i, d in enumerate(sd.query_devices()):
        if d["name"] == "pulse":
            pulse_index = i
        if d["max_input_channels"] > 0:
            devices.append(InputDevice(d["name"], i, d["max_input_channels"], d["default_samplerate"]))
    if pulse_index is not None:
        rate = sd.query_devices(pulse_index)["default_samplerate"]
        for source in pulse_sources():
            devices.append(InputDevice(PULSE_PREFIX + source, pulse_index, 2, rate, pulse_source=source))
    return devices


def find_input_device(query: str) -> InputDevice:
    """A device by index, exact name, or unique name substring (case-insensitive)."""
    devices = list_input_devices()
    if query.isdigit():
        for d in devices:
            if d.index == int(query) and d.pulse_source is None:
                return d
    exact = [d for d in devices if d.name.lower() == query.lower()]
    if exact:
        return exact[0]
    matches = [d for d in devices if query.lower() in d.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(repr(d.name) for d in matches)
        raise AudioUnavailable(f"--input {query!r} matches several devices ({names}); be more specific (see --list-devices)")
    raise AudioUnavailable(f"no input device matches {query!r}; run --list-devices to see them")


class StreamSource:
    """What every source shares: a PortAudio stream whose callback feeds ``ring``, the count of
    callbacks that reported an over- or underrun (``xruns``), and ``delay_frames``, how far the
    ring runs ahead of what is heard."""

    kind = ""

    def __init__(self, *, sr: int, channels: int):
        self.sr = sr
        self.channels = channels
        self.ring = RingBuffer(int(RING_SECONDS * sr), channels)
        self.xruns = 0
        self.delay_frames = 0
        self._stream = None

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close(ignore_errors=True)
            finally:
                self._stream = None


class LiveInput(StreamSource):
    """Captures an input device into ``ring``. Opened by name so it can be found again."""

    kind = "live"

    def __init__(self, query: str):
        self.query = query
        self.device = find_input_device(query)
        super().__init__(sr=int(self.device.default_samplerate), channels=min(self.device.channels, 2))
        self._pulse_checked = 0.0

    @property
    def label(self) -> str:
        return self.device.name

    def _callback(self, indata, frames, time_info, status) -> None:
        if status:
            self.xruns += 1
        self.ring.write(indata)

    def open(self) -> None:
        sd = import_sounddevice()
        self.device = find_input_device(self.query)  # by name: the index may have changed
        if self.device.pulse_source is not None:
            os.environ["PULSE_SOURCE"] = self.device.pulse_source  # read by the ALSA pulse plugin on open
        try:
            self._stream = sd.InputStream(device=self.device.index, channels=self.channels, samplerate=self.sr,
                                          blocksize=BLOCK_FRAMES, dtype="float32", latency=INPUT_LATENCY,
                                          callback=self._callback)
            self._stream.start()
        except sd.PortAudioError as e:
            self._stream = None
            raise AudioUnavailable(f"cannot open input {self.device.name!r}: {e}") from None

    @property
    def alive(self) -> bool:
        """The stream runs and, for a PulseAudio source, the source still exists (PulseAudio
        would otherwise move the stream silently to another source)."""
        if self._stream is None or not self._stream.active:
            return False
        now = time.monotonic()
        if self.device.pulse_source is not None and now - self._pulse_checked > PULSE_CHECK_SECONDS:
            self._pulse_checked = now
            return self.device.pulse_source in pulse_sources()
        return True


class FilePlayback(StreamSource):
    """Plays decoded samples through the default output and feeds exactly those samples to ``ring``.

    ``delay_frames`` is the output latency: the analysis reads only samples that have reached
    the speaker, so the visuals land with the sound, not ahead of it; a deep output buffer
    (``latency_s``, s or "low"/"high") therefore costs no sync, only start-up time.
    """

    kind = "file"

    def __init__(self, path: Path, *, loop: bool = False, latency_s: float | str = "high"):
        self.path = path
        self.latency_s = latency_s
        samples, sr = load_audio(path)
        self.samples = np.ascontiguousarray(samples[:, :2])
        super().__init__(sr=sr, channels=self.samples.shape[1])
        self.loop = loop
        self.position = 0
        self.finished = False

    @property
    def label(self) -> str:
        return self.path.name

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status:
            self.xruns += 1
        done = 0
        total = self.samples.shape[0]
        while done < frames:
            if self.position >= total:
                if not self.loop:
                    outdata[done:] = 0.0
                    self.finished = True
                    break
                self.position = 0
            n = min(frames - done, total - self.position)
            outdata[done:done + n] = self.samples[self.position:self.position + n]
            self.position += n
            done += n
        self.ring.write(outdata)

    def open(self) -> None:
        sd = import_sounddevice()
        try:
            self._stream = sd.OutputStream(channels=self.channels, samplerate=self.sr, dtype="float32",
                                           latency=self.latency_s, callback=self._callback)
            self._stream.start()
        except sd.PortAudioError as e:
            self._stream = None
            raise AudioUnavailable(f"cannot open the audio output to play {self.path.name}: {e}") from None
        self.delay_frames = int(self._stream.latency * self.sr)

    @property
    def alive(self) -> bool:
        return self._stream is not None and (self._stream.active or self.finished)
