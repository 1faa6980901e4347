"""The generated sound bed: a drone that breathes, a soft bell at phase changes, spoken cues.

The drone is four sine partials (A2, E3, A3, C#4: a root, fifth, octave and major third) whose
loudness swells with the breath pacer; a bell is three inharmonic partials decaying over about
four seconds. ``drone_features`` describes the drone as a ``FeatureSnapshot`` so a "drone" phase
drives the field with the bed's own envelope (the breath pumps energy in).

The bed cannot starve: a render thread (not the frame loop) keeps ``AHEAD_S`` of sound rendered
ahead in a ring buffer, and the sounddevice callback only copies from it into a deep output
buffer (``LATENCY_S``, as the main app's file playback). A busy frame loop delays what the
drone will do (the gain follows the session about ``AHEAD_S + LATENCY_S`` late, which a drone
and a bell do not mind), never whether it sounds. Underflows — PortAudio's flags and blocks the
ring could not fill — are counted (``SoundBed.xruns``, ``SoundBed.starved_blocks``) and logged
at the end. With no output device the bed stays silent after one log line. Spoken cues use
espeak-ng when it is installed and speech was asked for.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess

import threading

import numpy as np

from visualizer.background.guard import GuardedThread
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.audio.ring import RingBuffer
from visualizer.engine.audio.sources import Xruns

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
BLOCK = 1024  # frames rendered at a time (21 ms)
AHEAD_S = 0.5  # rendered ahead of the callback: how long the render thread may be held up unheard
LATENCY_S = 0.5  # PortAudio's output buffer: how long the callback may be held up unheard
DRONE_HZ = (110.0, 165.0, 220.0, 277.18)
DRONE_GAINS = (0.5, 0.25, 0.18, 0.1)
BELL_HZ = (523.25, 1413.0, 2690.0)  # a soft bell's inharmonic partials
BELL_GAINS = (0.35, 0.12, 0.05)
BELL_DECAY_S = 1.4  # amplitude time constant
VOLUME = 0.25
SILENCE = FeatureSnapshot(status="none")


def drone_level(breath: float) -> float:
    """Drone loudness 0..1 at breath value ``breath`` (0 empty .. 1 full): 0.55 .. 1."""
    return 0.55 + 0.45 * breath


def drone_features(t_s: float, breath, *, level: float = 1.0) -> FeatureSnapshot:
    """The drone as the analyser would report it: steady, beatless, its energy following the
    breath (``breath`` a ``BreathSample``; ``level`` the fade 0..1). Levels use the analyser's
    scale, where 0.5 is typical loudness."""
    b = breath.value if breath.active else 0.5
    energy = 0.5 * level * drone_level(b)
    return FeatureSnapshot(time_s=t_s, level_dbfs=20 * math.log10(max(VOLUME * energy, 1e-6)),
                           energy=energy, bass=energy, mid=0.6 * energy, high=0.1 * energy,
                           silent=level <= 0.0, status="drone")


class Synth:
    """Renders the bed block by block into preallocated buffers (no allocation per block)."""

    def __init__(self, sr: int = SAMPLE_RATE, block: int = BLOCK):
        self.sr = sr
        self._n = np.arange(block, dtype=np.float64)
        self._phases = np.zeros(len(DRONE_HZ) + len(BELL_HZ))
        self._freqs = np.array(DRONE_HZ + BELL_HZ)
        self._work = np.zeros(block)
        self._gain = 0.0
        self.target_gain = 0.0  # set by the session (fade × breath swell × drone on/off)
        self.bell_amplitude = 0.0

    def render(self, out: np.ndarray) -> None:
        """Fill ``out`` (frames, channels) float32 with the next block."""
        frames = out.shape[0]
        n = self._n[:frames]
        work = self._work[:frames]
        out[:] = 0.0
        ramp = self._gain + (self.target_gain - self._gain) * (n + 1) / frames  # no zipper noise
        bell_env = self.bell_amplitude * np.exp(-n / (BELL_DECAY_S * self.sr))
        self._gain = self.target_gain
        self.bell_amplitude *= math.exp(-frames / (BELL_DECAY_S * self.sr))
        for i, (f, g) in enumerate(zip(self._freqs, DRONE_GAINS + BELL_GAINS)):
            step = 2 * np.pi * f / self.sr
            np.sin(self._phases[i] + step * n, out=work)
            work *= g * (ramp if i < len(DRONE_HZ) else bell_env)
            out[:, 0] += work
            self._phases[i] = (self._phases[i] + step * frames) % (2 * np.pi)
        out[:, 0] *= VOLUME
        out[:, 1:] = out[:, :1]


class SoundBed:
    """The drone and bell through a sounddevice output stream, plus optional speech.

    device : output device (None = default). speak : say cue texts with espeak-ng.
    With no usable output the bed is silent and says so once in the log.

    Attributes: ``xruns`` (PortAudio's flags per callback, ``sources.Xruns``), ``starved_blocks``
    (callbacks the ring could not fill: heard as a gap), ``render.status`` ("" while healthy).
    """

    def __init__(self, *, device=None, speak: bool = False):
        self.synth = Synth()
        self.stream = None
        self.ring = RingBuffer(int(4 * AHEAD_S * SAMPLE_RATE), 2)
        self.xruns = Xruns()
        self.starved_blocks = 0
        self._block = np.zeros((BLOCK, 2), np.float32)
        self._bell = threading.Event()
        self._speaker = shutil.which("espeak-ng") if speak else None
        if speak and self._speaker is None:
            log.warning("spoken cues: espeak-ng is not installed; cues are shown only")
        self._voices: list[subprocess.Popen] = []
        self._fill()  # the first AHEAD_S is there before the stream asks for it
        self.render = GuardedThread("session sound", self._render_ahead)
        try:
            self.stream = self._open(device)
        except (OSError, ValueError) as e:  # no PortAudio library, no such device, no output (PortAudioError)
            self.stream = None
            self.render.close()
            log.warning("session sound: no audio output (%s); the session runs silent", str(e).splitlines()[0])

    def _open(self, device):
        import sounddevice as sd  # raises OSError without the PortAudio library

        try:
            stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=2, dtype="float32", latency=LATENCY_S,
                                     device=device, callback=self._callback)
            stream.start()
        except sd.PortAudioError as e:
            raise OSError(str(e)) from None
        return stream

    def _fill(self) -> None:
        """Render blocks until ``AHEAD_S`` lies ahead of what the callback has taken."""
        while self.ring.written - self.ring.read < AHEAD_S * SAMPLE_RATE:
            if self._bell.is_set():
                self._bell.clear()
                self.synth.bell_amplitude = 1.0
            self.synth.render(self._block)
            self.ring.write(self._block)

    def _render_ahead(self, stop: threading.Event) -> None:
        """The render thread: top the ring up every 20 ms until stopped."""
        while not stop.wait(0.02):
            self._fill()

    def _callback(self, outdata, frames, time_info, status) -> None:
        """PortAudio's thread: copy what is rendered; count flags and a ring that ran dry."""
        if status:
            self.xruns.add(status)
        n = self.ring.read_into(outdata)
        if n < frames:
            outdata[n:] = 0.0
            self.starved_blocks += 1

    @property
    def playing(self) -> bool:
        return self.stream is not None

    def update(self, *, level: float, breath: float, drone: bool, paused: bool) -> None:
        """Per frame: the fade ``level`` (0..1), the breath (0..1), whether the drone is the
        phase's input (otherwise it plays at a quarter under the music), paused (silence)."""
        share = 1.0 if drone else 0.25
        self.synth.target_gain = 0.0 if paused else level * share * drone_level(breath)

    def bell(self) -> None:
        """Ring the soft bell (phase changes) from the next block rendered."""
        self._bell.set()

    def speak(self, text: str) -> None:
        """Say ``text`` with espeak-ng (slow, low) when speech is on; never blocks."""
        if self._speaker is None:
            return
        self._voices = [v for v in self._voices if v.poll() is None]
        self._voices.append(subprocess.Popen([self._speaker, "-s", "125", "-p", "35", "-a", "80", text],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def close(self) -> None:
        """Stop the stream and the render thread, log any underflow, wait for a voice still speaking."""
        if self.stream is not None:
            self.stream.stop()
            self.stream.close()
            self.stream = None
            self.render.close()
            if self.xruns.output_underflows or self.starved_blocks:
                log.warning("session sound: %d output underflows, %d blocks the renderer had not filled",
                            self.xruns.output_underflows, self.starved_blocks)
        for v in self._voices:
            v.wait(timeout=10)
        self._voices = []
