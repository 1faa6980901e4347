import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


import shutil
import subprocess
import time

import pytest


def _pulse_running() -> bool:
    return subprocess.run(["pactl", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def pulse_server():
    """A real PulseAudio server (started here if none runs)."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.fail("PulseAudio is not installed: apt install pulseaudio pulseaudio-utils (.ci/run does)")
    started = False
    if not _pulse_running():
        subprocess.run(["pulseaudio", "-D", "--exit-idle-time=-1", "--log-target=stderr"], capture_output=True)
        started = True
        for _ in range(50):
            if _pulse_running():
                break
            time.sleep(0.1)
    assert _pulse_running(), "could not start a PulseAudio server"
    yield
    if started:
        subprocess.run(["pulseaudio", "--kill"], capture_output=True)


@pytest.fixture
def null_sink(pulse_server):
    """A fresh null sink; yields its name (its monitor source is NAME.monitor)."""
    name = f"vis_test_{int(time.time() * 1000) % 10**8}"
    module = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}",
                             f"sink_properties=device.description={name}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    yield name
    subprocess.run(["pactl", "unload-module", module], capture_output=True)
