"""OSC over real UDP on 127.0.0.1: set, get, features out, garbage floods."""

import logging
import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from visualizer.background import guard
from visualizer.engine import params
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.stage.changes import ControlChange, ControlQueue
from visualizer.stage.osc import (
    OscFeatureOut,
    OscServer,
    build_message,
    parse_host_port,
)

WAIT_S = 10.0  # an upper bound for loopback delivery, never a timing assertion


def f32(x: float) -> float:
    return float(np.float32(x))


@pytest.fixture
def server():
    queue = ControlQueue()
    base = params.Params.defaults().replace(k1=7.5)
    live = base.replace(k1=-2.25)
    srv = OscServer(queue, read_value=lambda name: (base.get(name), live.get(name)), port=0)
    yield srv
    srv.close()


@pytest.fixture
def client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(WAIT_S)
    yield sock
    sock.close()


def changes_after(server: OscServer, sent: int) -> list[ControlChange]:
    """Everything enqueued once the server has received ``sent`` datagrams."""
    deadline = time.monotonic() + WAIT_S
    while server.received < sent and time.monotonic() < deadline:
        time.sleep(0.002)
    assert server.received == sent
    return server.queue.drain()


def test_every_registry_parameter_is_set_at_both_ends_of_its_range(server, client):
    sent = []
    for name, spec in params.REGISTRY.items():
        for value in (spec.lo, spec.hi):
            client.sendto(build_message(f"/visualizer/{name}", float(value)), (server.host, server.port))
            sent.append(ControlChange("set", name=name, value=f32(value), source="osc"))
    assert changes_after(server, len(sent)) == sent
    assert not server.problems


def test_integer_arguments_and_normalised_faders(server, client):
    spec = params.spec("k1")
    client.sendto(build_message("/visualizer/k1", 3), (server.host, server.port))
    client.sendto(build_message("/visualizer/k1/norm", 0.75), (server.host, server.port))
    assert changes_after(server, 2) == [
        ControlChange("set", name="k1", value=3.0, source="osc"),
        ControlChange("set", name="k1", value=spec.lo + (spec.hi - spec.lo) * 0.75, source="osc")]


def test_preset_scene_palette_switches_and_triggers(server, client):
    to = (server.host, server.port)
    client.sendto(build_message("/visualizer/preset", "5meo"), to)
    client.sendto(build_message("/visualizer/scene", 2), to)
    client.sendto(build_message("/visualizer/tap"), to)
    client.sendto(build_message("/visualizer/drop", 1.0), to)  # a button's press fires …
    client.sendto(build_message("/visualizer/drop", 0.0), to)  # … its release does not
    client.sendto(build_message("/visualizer/next_scene"), to)
    client.sendto(build_message("/visualizer/palette", "lab"), to)
    client.sendto(build_message("/visualizer/blackout", 1), to)  # switches are absolute with an argument …
    client.sendto(build_message("/visualizer/blackout", 0.0), to)
    client.sendto(build_message("/visualizer/record"), to)  # … and toggle without one
    assert changes_after(server, 10) == [
        ControlChange("preset", name="5meo", source="osc"), ControlChange("scene", value=2.0, source="osc"),
        ControlChange("tap", source="osc"), ControlChange("drop", source="osc"),
        ControlChange("next_scene", source="osc"), ControlChange("palette", name="lab", source="osc"),
        ControlChange("switch", name="blackout", value=1.0, source="osc"),
        ControlChange("switch", name="blackout", value=0.0, source="osc"), ControlChange("record", source="osc")]


def test_values_out_of_range_are_clamped_to_the_range(server, client):
    spec = params.spec("k1")
    to = (server.host, server.port)
    for message in (("/visualizer/k1", 1e6), ("/visualizer/k1", -1e6), ("/visualizer/k1/norm", 1.5),
                    ("/visualizer/k1/norm", -0.5)):
        client.sendto(build_message(*message), to)
    assert [c.value for c in changes_after(server, 4)] == [spec.hi, spec.lo, spec.hi, spec.lo]
    assert not server.problems


def test_get_answers_the_sender_with_the_base_and_the_live_value(server, client):
    client.sendto(build_message("/visualizer/get", "k1"), (server.host, server.port))
    reply = OscMessage(client.recv(65536))
    assert reply.address == "/visualizer/value"
    assert reply.params == ["k1", 7.5, -2.25]
    assert server.controller == client.getsockname()  # feedback now goes to whoever asked
    server.send("/visualizer/k1", 1.5)
    feedback = OscMessage(client.recv(65536))
    assert (feedback.address, feedback.params) == ("/visualizer/k1", [1.5])


def test_bad_messages_are_counted_by_kind_and_logged_once(server, client, caplog):
    to = (server.host, server.port)
    bad = [b"\x00garbage", b"/visualizer/k1\x00\x00,f\x00\x00",  # malformed ×3 (the float's bytes missing, …
           b"#bundle\x00" + bytes(8) + b"\x00\x00\x00\x04abc\x00",  # … a bundle of something that is no message)
           build_message("/visualizer/k9", 1.0), build_message("/other/k1", 1.0),  # unknown ×2
           build_message("/visualizer/k1", "high"), build_message("/visualizer/k1"),  # bad arguments ×4
           build_message("/visualizer/scene", -1), build_message("/visualizer/get", "nope"),
           build_message("/visualizer/palette", "plaid"), build_message("/visualizer/blackout", "on")]  # ×2 more
    with caplog.at_level(logging.WARNING, logger="visualizer.stage.osc"):
        for _ in range(3):
            for datagram in bad:
                client.sendto(datagram, to)
        client.sendto(build_message("/visualizer/k2", -1.0), to)
        assert changes_after(server, 3 * len(bad) + 1) == [ControlChange("set", name="k2", value=-1.0, source="osc")]
    assert dict(server.problems) == {"malformed": 9, "unknown address": 6, "bad arguments": 18}
    assert len(caplog.records) == 3  # one line per kind of problem (python-osc's own, on the root logger, too)
    assert server.accepted == 1


def test_features_out_sends_events_once_and_levels_every_frame():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(WAIT_S)
    out = OscFeatureOut(*receiver.getsockname())
    try:
        frames = [FeatureSnapshot(energy=0.25, bass=0.5, mid=0.125, high=1.0, tempo_bpm=120.0, beat_phase=0.5,
                                  beat_count=b, onset_count=o) for b, o in ((1, 1), (1, 1), (2, 3))]
        for snapshot in frames:
            out.send(snapshot)
        received = []
        while len(received) < out.sent:
            message = OscMessage(receiver.recv(65536))
            received.append((message.address, message.params))
    finally:
        out.close()
        receiver.close()
    events = [m for m in received if m[0] in ("/visualizer/beat", "/visualizer/onset")]
    assert events == [("/visualizer/beat", [1]), ("/visualizer/onset", [1]),
                      ("/visualizer/beat", [2]), ("/visualizer/onset", [3])]
    assert received.count(("/visualizer/bands", [0.5, 0.125, 1.0])) == 3
    assert received.count(("/visualizer/energy", [0.25])) == 3
    assert received.count(("/visualizer/tempo", [120.0])) == 3
    assert out.dropped == 0


def test_features_out_to_nobody_never_raises():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: loopback answers with ICMP port unreachable
    out = OscFeatureOut("127.0.0.1", port)
    for i in range(50):
        out.send(FeatureSnapshot(beat_count=i))
    out.close()
    assert out.sent + out.dropped == 50 * 4 + 49  # four levels per frame (R, E need a FrameState), beats from frame 1


def test_parse_host_port():
    assert parse_host_port("10.0.0.2:7000") == ("10.0.0.2", 7000)
    assert parse_host_port("9001") == ("127.0.0.1", 9001)
    with pytest.raises(ValueError, match="host:port"):
        parse_host_port("localhost:http")


FLOOD_PER_THREAD = 3000  # datagrams each flood thread sends


def test_a_flood_of_garbage_while_rendering_never_stops_a_frame():
    """Thousands of bad datagrams from two threads while a render loop runs: the loop renders on
    until both floods have been sent (however fast the frames are), the valid changes among the
    garbage are applied, and the server keeps counting."""
    import threading

    from visualizer.engine.session import Session
    from visualizer.stage.performance import Performance

    session = Session.from_preset("nn-dmt", size=(16, 16))
    performance = Performance(session)
    server = OscServer(performance.queue, read_value=lambda name: (session.base.get(name), performance.live.get(name)),
                       port=0)
    garbage = [b"", b"\xff" * 7, b"/visualizer/k1\x00\x00,f\x00\x00", build_message("/visualizer/k1", 99.0),
               build_message("/visualizer/nope", 1.0), build_message("/visualizer/k1", "x"),
               b"#bundle\x00" + b"\x01" * 9]
    stop = threading.Event()

    def flood(seed: int):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        i = 0
        while not stop.is_set() and i < FLOOD_PER_THREAD:
            sock.sendto(garbage[(i + seed) % len(garbage)], (server.host, server.port))
            i += 1
            if i % 200 == 0:
                sock.sendto(build_message("/visualizer/k2", float(seed)), (server.host, server.port))
                time.sleep(0.001)  # stay within the socket's buffer most of the time
        sock.close()

    threads = [threading.Thread(target=flood, args=(seed,), daemon=True) for seed in (3, 4)]
    for t in threads:
        t.start()
    frames = 0
    try:
        features = FeatureSnapshot(status="test")
        while frames < 60 or any(t.is_alive() for t in threads):  # the flood lasts as long as it lasts
            performance.before_advance(features, 1 / 60)
            session.advance(features, 1 / 60)
            frames += 1
    finally:
        stop.set()
        for t in threads:
            t.join()
    deadline = time.monotonic() + WAIT_S
    seen = -1
    while server.received != seen and time.monotonic() < deadline:  # let the server drain the flood
        seen = server.received
        time.sleep(0.2)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(1.0)
    reply = None
    try:
        while reply is None and time.monotonic() < deadline:  # UDP may drop a datagram: a client retries
            client.sendto(build_message("/visualizer/k3", 5.5), (server.host, server.port))
            client.sendto(build_message("/visualizer/get", "k3"), (server.host, server.port))
            while session.base.k3 != 5.5 and time.monotonic() < deadline:  # the loop applies the change
                performance.before_advance(FeatureSnapshot(status="test"), 1 / 60)
                time.sleep(0.001)
            try:
                reply = OscMessage(client.recv(65536))
            except TimeoutError:
                continue
    finally:
        client.close()
        server.close()
    assert frames >= 60
    assert server.received > 1000 and sum(server.problems.values()) + server.accepted == server.received
    assert set(server.problems) <= {"malformed", "unknown address", "bad arguments"}
    assert session.base.k2 in (3.0, 4.0) and session.base.k3 == 5.5
    assert reply.address == "/visualizer/value" and reply.params[0] == "k3"


def test_an_exception_in_the_listener_is_logged_once_shown_and_the_listener_restarts(server, client, monkeypatch,
                                                                                     caplog):
    monkeypatch.setattr(guard, "BACKOFF_FIRST_S", 0.05)
    handle = server._message

    def failing_on_k3(address, args, sender):
        if address == "/visualizer/k3":
            raise RuntimeError("injected fault")
        return handle(address, args, sender)

    server._message = failing_on_k3
    to = (server.host, server.port)
    assert server.status == ""
    with caplog.at_level(logging.ERROR, logger="visualizer.background.guard"):
        client.sendto(build_message("/visualizer/k3", 1.0), to)
        client.sendto(build_message("/visualizer/k3", 2.0), to)
        client.sendto(build_message("/visualizer/k2", -1.0), to)  # waits in the socket while it restarts
        assert changes_after(server, 3) == [ControlChange("set", name="k2", value=-1.0, source="osc")]
    assert server.status == "OSC input failed: RuntimeError: injected fault (restarted, 2×)"
    assert [r.exc_info[0] for r in caplog.records] == [RuntimeError]  # logged once, with its traceback
    assert server._guard.alive
