"""A private PulseAudio server on its own socket, for tests, the fault table and the soak.

Killing, restarting or reconfiguring it touches no one else's sound (nor another run's server):
it has its own runtime dir and socket, and a null sink ``vis_default`` loaded at start (so it
survives restarts). Clients find it through ``PULSE_SERVER``, which the context manager sets for
this process and its children (pactl, paplay, and PortAudio's ALSA pulse plugin, which reads it
when a stream opens) and restores at exit::

    with PulseServer() as server:           # started; PULSE_SERVER points at it
        engine = AudioEngine(AudioChoice("input", device=f"{server.sink}.monitor"))
        server.kill(); server.start()        # the sound server dies and comes back
    # stopped, its runtime dir removed, PULSE_SERVER as before
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 20.0  # a loaded machine can take seconds to start it
PACTL_TIMEOUT_S = 5.0


class PulseUnavailable(RuntimeError):
    """PulseAudio is not installed, or the private server would not start."""


class PulseServer:
    """A private ``pulseaudio`` daemon; see the module docstring.

    runtime_dir : where its socket and state live (a fresh temporary dir, removed at exit, if None).
    sink : the null sink loaded at every start (the default sink; its monitor is SINK.monitor).
    """

    def __init__(self, runtime_dir: Path | None = None, *, sink: str = "vis_default"):
        if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
            raise PulseUnavailable("PulseAudio is not installed: apt install pulseaudio pulseaudio-utils")
        self._own_dir = runtime_dir is None
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="vis-pulse-")) if runtime_dir is None else Path(runtime_dir)
        self.socket = self.runtime_dir / "native"
        self.sink = sink
        self.process: subprocess.Popen | None = None
        self._previous_server: str | None = None

    @property
    def address(self) -> str:
        return f"unix:{self.socket}"

    def __enter__(self) -> PulseServer:
        self._previous_server = os.environ.get("PULSE_SERVER")
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        from visualizer.engine.audio.sources import PortAudioMissing, refresh_devices

        try:
            refresh_devices()  # PortAudio lists its "pulse" device only if a server answered when it started
        except PortAudioMissing:
            pass
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._previous_server is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = self._previous_server
        if self._own_dir:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def pactl(self, *args: str, check: bool = True) -> str:
        """``pactl ARGS`` against this server → its output (CalledProcessError if it fails and ``check``)."""
        env = dict(os.environ, PULSE_SERVER=self.address, LC_ALL="C")
        return subprocess.run(["pactl", *args], capture_output=True, text=True, env=env, check=check,
                              timeout=PACTL_TIMEOUT_S).stdout

    def running(self) -> bool:
        """Whether the server answers."""
        try:
            self.pactl("info")
            return True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return False

    def start(self) -> None:
        """Start the daemon and wait until it answers; sets PULSE_SERVER for this process."""
        env = dict(os.environ, PULSE_RUNTIME_PATH=str(self.runtime_dir), PULSE_STATE_PATH=str(self.runtime_dir))
        self.process = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
             f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
             f"--load=module-null-sink sink_name={self.sink} sink_properties=device.description={self.sink}",
             "--log-target=stderr", "--log-level=error"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("PULSE_SERVER") != self.address:  # a restart leaves it be: other threads read it
            os.environ["PULSE_SERVER"] = self.address
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.running():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PulseUnavailable(f"could not start a PulseAudio server on {self.address}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the server dies as a crash would, with no goodbye to its clients."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not ended within 10 s."""
        self._end(signal.SIGTERM)

    def _end(self, how: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def load_null_sink(self, name: str) -> str:
        """Load a null sink named ``name`` (its monitor: NAME.monitor); returns its module id."""
        return self.pactl("load-module", "module-null-sink", f"sink_name={name}",
                          f"sink_properties=device.description={name}").strip()

    def module_of_sink(self, name: str) -> str:
        """The id of the module that made null sink ``name`` (KeyError if there is none)."""
        for line in self.pactl("list", "short", "modules").splitlines():
            if f"sink_name={name}" in line:
                return line.split()[0]
        raise KeyError(name)

    def unload_module(self, module: str) -> None:
        self.pactl("unload-module", module, check=False)

    def play(self, path: Path, *, sink: str | None = None) -> subprocess.Popen:
        """``paplay`` ``path`` into ``sink`` (default: the server's own null sink)."""
        env = dict(os.environ, PULSE_SERVER=self.address)
        return subprocess.Popen(["paplay", f"--device={sink or self.sink}", str(path)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
