import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


import shutil
import subprocess
import time
from pathlib import Path

import pytest


class PulseServer:
    """A private PulseAudio server on its own socket: the tests may kill, restart and reconfigure
    it without touching anyone else's sound (or another test session's server).

    Clients find it through PULSE_SERVER, which ``start`` sets for this process and its children
    (pactl, paplay, and PortAudio's ALSA pulse plugin, which reads it when a stream opens).
    """

    def __init__(self, runtime_dir: Path):
        self.runtime_dir = runtime_dir
        self.socket = runtime_dir / "native"
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"unix:{self.socket}"

    def running(self) -> bool:
        env = dict(os.environ, PULSE_SERVER=self.address)
        try:
            return subprocess.run(["pactl", "info"], capture_output=True, env=env, timeout=5, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        env = dict(os.environ, PULSE_RUNTIME_PATH=str(self.runtime_dir), PULSE_STATE_PATH=str(self.runtime_dir))
        self.process = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
             f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
             "--load=module-null-sink sink_name=vis_default sink_properties=device.description=vis_default",
             "--log-target=stderr", "--log-level=error"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.environ["PULSE_SERVER"] = self.address
        deadline = time.monotonic() + 20  # a loaded machine can take seconds to start it
        while not self.running():
            assert self.process.poll() is None and time.monotonic() < deadline, "could not start a PulseAudio server"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory):
    """A private, real PulseAudio server for the session (default sink: the null sink
    ``vis_default``); yields the PulseServer."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.fail("PulseAudio is not installed: apt install pulseaudio pulseaudio-utils (.ci/run does)")
    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    previous = os.environ.get("PULSE_SERVER")
    server.start()
    from visualizer.audio.sources import refresh_devices

    refresh_devices()  # PortAudio lists its "pulse" device only if a server answered when it started
    yield server
    server.stop()
    if previous is None:
        os.environ.pop("PULSE_SERVER", None)
    else:
        os.environ["PULSE_SERVER"] = previous


@pytest.fixture
def make_null_sink(pulse_server):
    """Factory: a fresh null sink per call, named after ``label``; returns its name (its monitor
    source is NAME.monitor). All are unloaded after the test."""
    modules = []

    def make(label: str = "sink") -> str:
        name = f"vis_{label}_{time.monotonic_ns() % 10**9}"
        modules.append(subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}",
                                       f"sink_properties=device.description={name}"],
                                      capture_output=True, text=True, check=True).stdout.strip())
        return name

    yield make
    for module in modules:
        subprocess.run(["pactl", "unload-module", module], capture_output=True, check=False)


@pytest.fixture
def null_sink(make_null_sink):
    """A fresh null sink; yields its name (its monitor source is NAME.monitor)."""
    return make_null_sink("test")
