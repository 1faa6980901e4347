import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# background work (eigenmodes, measures) at normal priority: at the product's nice 19 a busy
# machine can starve a computation a test waits for (the children inherit this)
os.environ.setdefault("VISUALIZER_BACKGROUND_NICE", "0")


import time

import pytest

from devtools.pulse_server import PulseServer, PulseUnavailable


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory):
    """A private, real PulseAudio server for the session (default sink: the null sink
    ``vis_default``); yields the PulseServer (``devtools.pulse_server``)."""
    try:
        server = PulseServer(tmp_path_factory.mktemp("pulse"))
        with server:
            yield server
    except PulseUnavailable as e:
        pytest.fail(f"{e} (.ci/run installs it)")


@pytest.fixture
def make_null_sink(pulse_server):
    """Factory: a fresh null sink per call, named after ``label``; returns its name (its monitor
    source is NAME.monitor). All are unloaded after the test."""
    modules = []

    def make(label: str = "sink") -> str:
        name = f"vis_{label}_{time.monotonic_ns() % 10**9}"
        modules.append(pulse_server.load_null_sink(name))
        return name

    yield make
    for module in modules:
        pulse_server.unload_module(module)


@pytest.fixture
def null_sink(make_null_sink):
    """A fresh null sink; yields its name (its monitor source is NAME.monitor)."""
    return make_null_sink("test")
