"""Audio sources: live input (devices and PulseAudio/PipeWire sources), file playback, demo.

Each source opens a PortAudio stream through sounddevice whose callback does one thing: copy
the block into the ring buffer (and, for playback, the next file samples into the output), and
count the xruns PortAudio flags on it, by kind.

Asking PulseAudio (``pactl``) has three answers, not two: present, absent, and "could not check"
(pactl missing, failing or timing out on a busy machine). Only a definite "absent" means gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from visualizer.engine.audio.decode import AudioReader
from visualizer.engine.audio.prefetch import Prefetcher
from visualizer.engine.audio.ring import RingBuffer

log = logging.getLogger(__name__)

RING_SECONDS = 8.0  # a monitor delivers 2 s chunks: this leaves 6 s for an analysis thread starved by a loaded machine
PACTL_TIMEOUT_S = 3.0  # longer than this and pactl "could not check"
BLOCK_FRAMES = 256  # ≈ 5.8 ms at 44.1 kHz
INPUT_LATENCY = "high"  # PortAudio's ALSA-pulse bridge drops and repeats blocks at "low" under load
# Playback buffer (s). PortAudio's "high" is ~30 ms through the ALSA-pulse bridge: on a loaded
# machine, or into a sink that pulls 2 s chunks (a null sink), playback then crawls at a fraction
# of real time. A deep buffer costs no sync (the analysis waits for ``delay_frames``).
PLAYBACK_LATENCY_S = 1.0
PULSE_PREFIX = "pulse:"


class AudioUnavailable(RuntimeError):
    """Audio cannot be used (no PortAudio, no such device, ...); the message says how to fix it."""


class PortAudioMissing(AudioUnavailable):
    """The PortAudio library is not installed: no device can be opened or even listed."""


class CouldNotCheck(AudioUnavailable):
    """PulseAudio could not be asked (pactl missing, failing or too slow): not an answer, try again."""


def import_sounddevice():
    """sounddevice, or PortAudioMissing with the fix when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError:
        raise PortAudioMissing("PortAudio library not found: install it (Debian/Ubuntu: sudo apt install "
                               "libportaudio2; macOS: brew install portaudio) or run with --no-audio") from None
    alsa_messages.install()
    return sounddevice


class AlsaMessages:
    """Counts what ALSA would print to the terminal ("underrun occurred", ~20 per song under load)
    instead of letting it flood stderr; the engine logs the count at most once a minute.

    ALSA's error handler is process-global: installed once, on first use of PortAudio, here.
    """

    _HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                ctypes.c_char_p, ctypes.c_char_p)

    def __init__(self) -> None:
        self.count = 0
        self.latest = ""
        self._handler = None
        self._lock = threading.Lock()

    def install(self) -> None:
        with self._lock:
            if self._handler is not None:
                return
            name = ctypes.util.find_library("asound")
            try:
                library = ctypes.CDLL(name) if name else None
            except OSError:
                library = None
            if library is None:  # not Linux/ALSA: nothing prints
                self._handler = False
                return
            self._handler = self._HANDLER(self._record)  # kept referenced: ALSA calls it for the process lifetime
            library.snd_lib_error_set_handler(self._handler)

    def _record(self, file, line, function, err, fmt, first_arg) -> None:
        """ALSA's handler is variadic; its one flooding message, "%s occurred", has a single
        string argument, which the Linux x86-64 and arm64 calling conventions pass like a sixth
        fixed one. Other messages are kept as their format."""
        text = (fmt or b"").decode(errors="replace")
        if text == "%s occurred" and first_arg:
            text = f"{first_arg.decode(errors='replace')} occurred"
        self.latest = f"{(function or b'').decode(errors='replace')}: {text}"
        self.count += 1


alsa_messages = AlsaMessages()


@dataclass
class Xruns:
    """Callbacks on which PortAudio flagged trouble, by kind (sounddevice's CallbackFlags).

    input_overflows : input was lost because the callback ran late (live capture drops audio).
    output_underflows : the output ran dry (playback was heard with a gap).
    input_underflows, output_overflows : the rarer duplex cases; priming_output is not trouble.
    """

    input_overflows: int = 0
    input_underflows: int = 0
    output_underflows: int = 0
    output_overflows: int = 0

    def add(self, status) -> None:
        """Count the flags of one callback's ``status`` (cheap: called in the audio callback)."""
        self.input_overflows += status.input_overflow
        self.input_underflows += status.input_underflow
        self.output_underflows += status.output_underflow
        self.output_overflows += status.output_overflow

    @property
    def total(self) -> int:
        return self.input_overflows + self.input_underflows + self.output_underflows + self.output_overflows


@dataclass(frozen=True)
class InputDevice:
    """An input the user can choose: a PortAudio device, or a PulseAudio/PipeWire source
    (``pulse:NAME``, e.g. a sink's ``.monitor`` = what the computer is playing)."""

    name: str
    index: int | None  # PortAudio device index (the "pulse" device for PulseAudio sources)
    channels: int
    default_samplerate: float
    pulse_source: str | None = None


def pactl(*args: str) -> str:
    """``pactl ARGS`` → its output; CouldNotCheck if pactl is missing, fails or takes longer than
    ``PACTL_TIMEOUT_S`` (a busy machine, a hung server): that is no answer, not "absent"."""
    if shutil.which("pactl") is None:
        raise CouldNotCheck("pactl not found (Debian/Ubuntu: sudo apt install pulseaudio-utils)")
    try:
        out = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=PACTL_TIMEOUT_S,
                             env=dict(os.environ, LC_ALL="C"), check=False)
    except subprocess.TimeoutExpired:
        raise CouldNotCheck(f"pactl did not answer within {PACTL_TIMEOUT_S:g} s") from None
    except OSError as e:
        raise CouldNotCheck(f"pactl could not run: {e}") from None
    if out.returncode != 0:
        reason = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1]
        raise CouldNotCheck(f"pactl failed: {reason}")
    return out.stdout


def pulse_sources() -> list[str]:
    """Names of PulseAudio/PipeWire sources (monitors included); CouldNotCheck if pactl cannot tell."""
    return [line.split("\t")[1] for line in pactl("list", "short", "sources").splitlines() if line.count("\t") >= 1]


def pulse_source_present(name: str) -> bool | None:
    """Whether PulseAudio source ``name`` exists: True, False (a definite answer), or None when
    it could not be checked."""
    try:
        return name in pulse_sources()
    except CouldNotCheck as e:
        log.debug("could not check PulseAudio source %s: %s", name, e)
        return None


def default_monitor() -> str:
    """The monitor source of PulseAudio's default sink (what the computer is playing)."""
    return pactl("get-default-sink").strip() + ".monitor"


def _portaudio_inputs(sd) -> tuple[list[InputDevice], int | None]:
    """PortAudio's input devices, and the index of its "pulse" device (None without one)."""
    devices, pulse_index = [], None
    for i, d in enumerate(sd.query_devices()):
        if d["name"] == "pulse":
            pulse_index = i
        if d["max_input_channels"] > 0:
            devices.append(InputDevice(d["name"], i, d["max_input_channels"], d["default_samplerate"]))
    return devices, pulse_index


def _pulse_inputs(sd, pulse_index: int | None) -> list[InputDevice]:
    """Each PulseAudio source as an input through PortAudio's "pulse" device; CouldNotCheck
    when pactl cannot tell (no pactl at all means no PulseAudio: none)."""
    if pulse_index is None or shutil.which("pactl") is None:
        return []
    rate = sd.query_devices(pulse_index)["default_samplerate"]
    return [InputDevice(PULSE_PREFIX + source, pulse_index, 2, rate, pulse_source=source) for source in pulse_sources()]


def list_input_devices() -> list[InputDevice]:
    """Every input: PortAudio's devices, then each PulseAudio source through the "pulse" device
    (left out, with a warning, when PulseAudio cannot be asked)."""
    sd = import_sounddevice()
    devices, pulse_index = _portaudio_inputs(sd)
    try:
        return devices + _pulse_inputs(sd, pulse_index)
    except CouldNotCheck as e:
        log.warning("could not list PulseAudio sources: %s", e)
        return devices


def refresh_devices() -> None:
    """Make PortAudio enumerate the devices again (a re-plugged card, a PulseAudio server that
    was not running at start-up) — only while none of our streams is open, as it closes them."""
    sd = import_sounddevice()
    with _open_streams_lock:
        if _open_streams:
            return
        sd._terminate()  # sounddevice's documented way to refresh the device list
        sd._initialize()


def find_input_device(query: str) -> InputDevice:
    """A device by index, exact name, or unique name substring (case-insensitive).

    Several PulseAudio sources matching (``--input monitor``) resolve to the default sink's
    monitor when it is one of them. Raises AudioUnavailable when nothing matches or the match is
    ambiguous (definite answers), CouldNotCheck when PulseAudio could not be asked and the
    answer may lie there.
    """
    sd = import_sounddevice()
    devices, pulse_index = _portaudio_inputs(sd)
    unchecked = None
    try:
        devices += _pulse_inputs(sd, pulse_index)
    except CouldNotCheck as e:
        unchecked = e
    if query.isdigit():
        for d in devices:
            if d.index == int(query) and d.pulse_source is None:
                return d
    exact = [d for d in devices if d.name.lower() == query.lower()]
    if exact:
        return exact[0]
    matches = [d for d in devices if query.lower() in d.name.lower()]
    if unchecked is not None and len(matches) != 1:
        raise CouldNotCheck(f"cannot look for input {query!r} among PulseAudio sources: {unchecked}")
    if len(matches) == 1:
        return matches[0]
    if matches:
        return _default_among(query, matches)
    raise AudioUnavailable(f"no input device matches {query!r}; run --list-devices to see them")


def _default_among(query: str, matches: list[InputDevice]) -> InputDevice:
    """The default sink's monitor if it is among several matches, said in the log; otherwise the
    ambiguity is the user's to resolve."""
    names = ", ".join(repr(d.name) for d in matches)
    if all(d.pulse_source is not None for d in matches):
        monitor = default_monitor()  # CouldNotCheck propagates: no answer yet, try again
        chosen = [d for d in matches if d.pulse_source == monitor]
        if chosen:
            log.info("audio: --input %r matches %d sources; listening to the default output's monitor %s",
                     query, len(matches), chosen[0].name)
            return chosen[0]
    raise AudioUnavailable(f"--input {query!r} matches several devices ({names}); be more specific (see --list-devices)")


_open_streams: set[int] = set()  # ids of our open PortAudio streams (refresh_devices waits for none)
_open_streams_lock = threading.Lock()
_pulse_source_lock = threading.Lock()


@contextmanager
def pulse_source_for_open(source: str | None):
    """Within this block, PULSE_SOURCE names ``source``; the previous value is restored after.

    The ALSA pulse plugin behind PortAudio's "pulse" device has no per-stream device argument
    that sounddevice can pass; libpulse reads PULSE_SOURCE once, when the stream is opened. So it
    is set only around that open, under a lock, and restored — never left process-wide.
    """
    if source is None:
        yield
        return
    with _pulse_source_lock:
        previous = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = source
        try:
            yield
        finally:
            if previous is None:
                del os.environ["PULSE_SOURCE"]
            else:
                os.environ["PULSE_SOURCE"] = previous


class StreamSource:
    """What every source shares: a PortAudio stream whose callback feeds ``ring``, the xruns
    PortAudio flagged by kind (``xruns``), and ``delay_frames``, how far the ring runs ahead of
    what is heard."""

    kind = ""

    def __init__(self, *, sr: int, channels: int):
        self.sr = sr
        self.channels = channels
        self.ring = RingBuffer(int(RING_SECONDS * sr), channels)
        self.xruns = Xruns()
        self.delay_frames = 0
        self._stream = None

    def _started(self, stream) -> None:
        """Start ``stream`` and register it as ours."""
        self._stream = stream
        with _open_streams_lock:
            _open_streams.add(id(stream))
        stream.start()

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close(ignore_errors=True)
            finally:
                with _open_streams_lock:
                    _open_streams.discard(id(stream))


class LiveInput(StreamSource):
    """Captures an input device into ``ring``. Opened by name so it can be found again."""

    kind = "live"

    def __init__(self, query: str):
        self.query = query
        self.device = find_input_device(query)
        super().__init__(sr=int(self.device.default_samplerate), channels=min(self.device.channels, 2))

    @property
    def label(self) -> str:
        return self.device.name

    def _callback(self, indata, frames, time_info, status) -> None:
        if status:
            self.xruns.add(status)
        self.ring.write(indata)

    def open(self) -> None:
        sd = import_sounddevice()
        self.device = find_input_device(self.query)  # by name: the index may have changed
        try:
            with pulse_source_for_open(self.device.pulse_source):
                stream = sd.InputStream(device=self.device.index, channels=self.channels, samplerate=self.sr,
                                        blocksize=BLOCK_FRAMES, dtype="float32", latency=INPUT_LATENCY,
                                        callback=self._callback)
            self._started(stream)
        except sd.PortAudioError as e:
            self.close()
            raise AudioUnavailable(f"cannot open input {self.device.name!r}: {e}") from None

    @property
    def alive(self) -> bool:
        """The stream runs (whether a PulseAudio source still exists is asked separately, off
        the analysis thread: see ``present``)."""
        return self._stream is not None and self._stream.active

    def present(self) -> bool | None:
        """Whether the device still exists: None when that could not be checked. Only a
        PulseAudio source can be asked (PulseAudio would otherwise move the stream silently to
        another source); a PortAudio device that vanishes stops its stream instead."""
        if self.device.pulse_source is None:
            return True
        return pulse_source_present(self.device.pulse_source)


class FilePlayback(StreamSource):
    """Plays a file through the default output and feeds exactly those samples to ``ring``; the
    file is decoded from disk a few seconds ahead (``Prefetcher``), so memory stays flat whatever
    its length.

    ``delay_frames`` is the output latency: the analysis reads only samples that have reached
    the speaker, so the visuals land with the sound, not ahead of it; a deep output buffer
    (``latency_s``, s or "low"/"high") therefore costs no sync, only start-up time. ``error`` is
    the one line of a decoding error that ended the file early ("" if none).
    """

    kind = "file"

    def __init__(self, path: Path, *, loop: bool = False, latency_s: float | str = PLAYBACK_LATENCY_S):
        self.path = path
        self.latency_s = latency_s
        self.loop = loop
        self._reader = Prefetcher(AudioReader(path, loop=loop))
        super().__init__(sr=self._reader.reader.sr, channels=self._reader.reader.channels)
        self.end_frame: int | None = None  # ring frame count at which the file ended (loop=False)

    @property
    def label(self) -> str:
        return self.path.name

    @property
    def finished(self) -> bool:
        """The whole file (or all of it that could be decoded) has been handed to the output."""
        return self.end_frame is not None

    @property
    def error(self) -> str:
        return self._reader.error

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status:
            self.xruns.add(status)
        done = self._reader.take_into(outdata) if self.end_frame is None else 0
        outdata[done:] = 0.0
        if self._reader.ended and self.end_frame is None:
            self.end_frame = self.ring.written + done
        self.ring.write(outdata)

    def open(self) -> None:
        sd = import_sounddevice()
        self._reader.start()
        try:
            self._started(sd.OutputStream(channels=self.channels, samplerate=self.sr, dtype="float32",
                                          latency=self.latency_s, callback=self._callback))
        except sd.PortAudioError as e:
            self.close()
            raise AudioUnavailable(f"cannot open the audio output to play {self.path.name}: {e}") from None
        self.delay_frames = int(self._stream.latency * self.sr)

    def close(self) -> None:
        super().close()
        self._reader.close()

    @property
    def alive(self) -> bool:
        return self._stream is not None and (self._stream.active or self.finished)

    def present(self) -> bool | None:
        return True
