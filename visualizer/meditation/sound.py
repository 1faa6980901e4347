"""The generated sound bed: a drone that breathes, a soft bell at phase changes, spoken cues.

The drone is four sine partials (A2, E3, A3, C#4: a root, fifth, octave and major third) whose
loudness swells with the breath pacer; a bell is three inharmonic partials decaying over about
four seconds. ``drone_features`` describes the drone as a ``FeatureSnapshot`` so a "drone" phase
drives the field with the bed's own envelope (the breath pumps energy in).

The bed cannot starve: it plays from its own process (``serve``), which shares no GIL with the
frame loop, its callback rendering each block behind a deep output buffer (``LATENCY_S``, as the
main app's file playback). As a thread of the app it did starve: on a loaded machine the OS
preempts the frame loop while it holds the GIL, and the sound waits for it (10 gaps of up to
0.84 s in 5 minutes beside two busy loops, ``devtools.drone_gaps``; docs/lab/meditation.md). The
session sets the gain and rings the bell through shared memory; what it sets is heard
``SoundBed.delay_s`` later, so the driver sends the breath that far ahead. PortAudio's underflow
flags are counted (``SoundBed.output_underflows``) and logged at the end. With no output device
the bed stays silent after one log line. Spoken cues use espeak-ng when it is installed and
speech was asked for.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import shutil
import subprocess
import time

import numpy as np

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.audio.sources import Xruns

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
BLOCK = 1024  # frames rendered at a time (21 ms)
LATENCY_S = 2.0  # output buffer: how long the sound process may be held up unheard (a drone needs no low latency)
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


class BedPlayer:
    """The bed's output, inside the sound process: the sounddevice callback renders each block
    (four sines and a bell into preallocated buffers, well under a millisecond) behind
    ``LATENCY_S`` of output buffer. ``xruns`` : PortAudio's flags (``output_underflows``: the
    output ran dry, heard as a gap)."""

    def __init__(self, device):
        import sounddevice as sd  # raises OSError without the PortAudio library

        self.synth = Synth()
        self.xruns = Xruns()
        try:
            self.stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=2, dtype="float32", blocksize=BLOCK,
                                          latency=LATENCY_S, device=device, callback=self._callback)
            self.stream.start()
        except sd.PortAudioError as e:
            raise OSError(str(e)) from None

    def _callback(self, outdata, frames, time_info, status) -> None:
        """PortAudio's thread: the next block; count the flags."""
        if status:
            self.xruns.add(status)
        self.synth.render(outdata)

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


# the controls the session writes and the sound process reads (doubles), and what it counts back
GAIN, BELLS, STOP = range(3)
START_S = 30.0  # a loaded machine can take seconds to start Python and open the stream
POLL_S = 0.02


def serve(device, controls, counts, answer, parent_pid: int) -> None:
    """The sound process: open the output (sending "" or why it cannot on ``answer``), then every
    ``POLL_S`` hand the gain and the bells from ``controls`` to the synth and write the underflow
    count into ``counts[0]``, until told to stop or the parent is gone."""
    try:
        player = BedPlayer(device)
    except (OSError, ValueError) as e:  # no PortAudio library, no such device, no output (PortAudioError)
        answer.send(str(e).splitlines()[0] or type(e).__name__)
        return
    answer.send("")
    bells = 0.0
    try:
        while controls[STOP] == 0.0 and os.getppid() == parent_pid:
            player.synth.target_gain = controls[GAIN]
            if controls[BELLS] != bells:
                bells = controls[BELLS]
                player.synth.bell_amplitude = 1.0
            counts[0] = player.xruns.output_underflows
            time.sleep(POLL_S)
    finally:
        player.close()


class SoundBed:
    """The drone and bell, played by their own process, plus optional speech.

    device : output device (None = default). speak : say cue texts with espeak-ng.
    With no usable output the bed is silent and says so once in the log.

    ``delay_s`` : how late what the session sets is heard (the output buffer). ``output_underflows``
    : the sound process's count of gaps, logged at the end when not zero.
    """

    delay_s = LATENCY_S

    def __init__(self, *, device=None, speak: bool = False):
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._controls = context.RawArray("d", 3)
        self._counts = context.RawArray("q", 1)
        self._speaker = shutil.which("espeak-ng") if speak else None
        if speak and self._speaker is None:
            log.warning("spoken cues: espeak-ng is not installed; cues are shown only")
        self._voices: list[subprocess.Popen] = []
        receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=serve, args=(device, self._controls, self._counts, send, os.getpid()),
                                        name="session sound", daemon=True)
        self._process.start()
        send.close()
        try:
            why = receive.recv() if receive.poll(START_S) else f"the sound process did not answer in {START_S:g} s"
        except EOFError:
            why = "the sound process ended before it opened its output"
        receive.close()
        if why:
            self._stop()
            log.warning("session sound: no audio output (%s); the session runs silent", why)

    @property
    def playing(self) -> bool:
        return self._process is not None

    @property
    def output_underflows(self) -> int:
        return self._counts[0]

    def update(self, *, level: float, breath: float, drone: bool, paused: bool) -> None:
        """Per frame: the fade ``level`` (0..1), the breath (0..1), whether the drone is the
        phase's input (otherwise it plays at a quarter under the music), paused (silence)."""
        share = 1.0 if drone else 0.25
        self._controls[GAIN] = 0.0 if paused else level * share * drone_level(breath)

    def bell(self) -> None:
        """Ring the soft bell (phase changes) from the next block rendered."""
        self._controls[BELLS] += 1.0

    def speak(self, text: str) -> None:
        """Say ``text`` with espeak-ng (slow, low) when speech is on; never blocks."""
        if self._speaker is None:
            return
        self._voices = [v for v in self._voices if v.poll() is None]
        self._voices.append(subprocess.Popen([self._speaker, "-s", "125", "-p", "35", "-a", "80", text],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._controls[STOP] = 1.0
        process.join(5.0)
        if process.is_alive():
            process.kill()
            process.join(5.0)

    def close(self) -> None:
        """Stop the sound process, log any gap it counted, wait for a voice still speaking."""
        if self._process is not None:
            self._stop()
            if self.output_underflows:
                log.warning("session sound: %d output underflows (heard as gaps)", self.output_underflows)
        for v in self._voices:
            v.wait(timeout=10)
        self._voices = []
