"""MIDI through a real software MIDI path.

This machine has no ALSA sequencer (/dev/snd/seq is missing, so python-rtmidi cannot make virtual
ports); the device side is therefore a mido socket port server (real TCP on 127.0.0.1) speaking
MIDI bytes, and the controller connects to it as ``tcp:127.0.0.1:PORT`` exactly as it would to
a remote device.
"""

import logging
import socket
import time

import mido
import mido.sockets
import pytest

from visualizer.background import guard
from visualizer.engine import params
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.stage.changes import ControlChange, ControlQueue
from visualizer.stage.clock import MAX_BPM, MIN_BEAT_GAP_S, MIN_BPM, PPQN, BeatMerge, MidiClock, clamp_bpm
from visualizer.stage.midi import (
    RETRY_S,
    Binding,
    MidiController,
    bindings_path,
    load_bindings,
    save_bindings,
)

WAIT_S = 3 * RETRY_S + 5.0  # an upper bound for delivery and reconnection, never a timing assertion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


class Device:
    """A MIDI device on a mido socket port server; the controller connects to it."""

    def __init__(self, port: int):
        self.server = mido.sockets.PortServer("127.0.0.1", port)
        self.link = None

    def wait_for_controller(self):
        wait_for(lambda: self._accept(), "the controller to connect")

    def _accept(self):
        self.link = self.server.accept(block=False)
        return self.link is not None

    def send(self, *messages):
        for m in messages:
            self.link.send(m)

    def unplug(self):
        # mido's SocketPort.close leaves the descriptor open behind its file objects: shut the
        # connection down so the controller sees the end of the stream, as a pulled cable gives
        self.link._socket.shutdown(socket.SHUT_RDWR)
        self.link.close()
        self.server.close()


@pytest.fixture
def rig(tmp_path):
    port = free_port()
    device = Device(port)
    queue = ControlQueue()
    controller = MidiController(queue, device=f"tcp:127.0.0.1:{port}", folder=tmp_path)
    device.wait_for_controller()
    wait_for(lambda: controller.connections == 1, "the controller to open the device")
    yield device, controller, queue, port, tmp_path
    controller.close()
    device.server.close()


def drain_until(queue: ControlQueue, count: int) -> list[ControlChange]:
    got: list[ControlChange] = []
    wait_for(lambda: got.extend(queue.drain()) or len(got) >= count, f"{count} control changes")
    return got


def test_learn_binds_a_knob_saves_it_by_device_and_maps_the_range(rig):
    device, controller, queue, port, folder = rig
    drain_until(queue, 1)  # "MIDI: tcp:… (0 bindings)"
    controller.learn("k1")
    device.send(mido.Message("control_change", channel=2, control=16, value=10))
    learned = drain_until(queue, 1)
    assert learned[0].kind == "message" and "CC 16 (ch 3) → k1" in learned[0].name
    assert load_bindings(f"tcp:127.0.0.1:{port}", folder) == {("cc", 2, 16): Binding("cc", 2, 16, "k1")}
    spec = params.spec("k1")
    device.send(*(mido.Message("control_change", channel=2, control=16, value=v) for v in (0, 64, 127)))
    device.send(mido.Message("control_change", channel=3, control=16, value=127))  # other channel: unbound
    assert drain_until(queue, 3) == [ControlChange("set", name="k1", value=spec.lo + (spec.hi - spec.lo) * v / 127,
                                                   source="midi") for v in (0, 64, 127)]
    assert controller.describe_bindings() == ["CC 16 (ch 3) → k1"]


def test_pads_fire_triggers_and_a_cc_trigger_fires_on_its_rising_edge(rig):
    device, controller, queue, port, folder = rig
    drain_until(queue, 1)
    controller.learn("next_scene")
    device.send(mido.Message("note_on", note=36, velocity=100))
    drain_until(queue, 1)
    controller.learn("drop")
    device.send(mido.Message("control_change", control=64, value=0))
    drain_until(queue, 1)
    device.send(mido.Message("note_on", note=36, velocity=90), mido.Message("note_off", note=36),
                mido.Message("note_on", note=36, velocity=0),  # a note-off in disguise: no trigger
                *(mido.Message("control_change", control=64, value=v) for v in (0, 127, 100, 0, 127)))
    device.send(mido.Message("note_on", note=37, velocity=100))  # a marker: everything before has arrived
    wait_for(lambda: controller.received == 11, "the messages")
    assert queue.drain() == [ControlChange("next_scene", source="midi"), ControlChange("drop", source="midi"),
                             ControlChange("drop", source="midi")]


def test_bindings_are_reloaded_when_the_device_is_plugged_back_in(rig):
    device, controller, queue, port, folder = rig
    name = f"tcp:127.0.0.1:{port}"
    device.unplug()
    wait_for(lambda: controller.received == 0 and _closed(controller, port), "the controller to notice")
    # while it is away, its bindings change on disk (another session learned a fader)
    save_bindings(name, {("cc", 0, 7): Binding("cc", 0, 7, "lightness")}, folder)
    again = Device(port)
    try:
        again.wait_for_controller()
        wait_for(lambda: controller.connections == 2, "the controller to reopen the device")
        queue.drain()
        again.send(mido.Message("control_change", control=7, value=127))
        assert drain_until(queue, 1) == [ControlChange("set", name="lightness", value=params.spec("lightness").hi,
                                                       source="midi")]
    finally:
        again.server.close()
    assert bindings_path(name, folder).exists()


def _closed(controller: MidiController, port: int) -> bool:
    """True once the controller has given up the old connection (its reader saw the EOF)."""
    return controller.connections == 1 and controller.name is not None and _nobody_listening(port)


def _nobody_listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_midi_clock_through_the_socket_counts_beats_and_stops(rig):
    device, controller, queue, port, folder = rig
    clock = controller.clock
    device.send(mido.Message("start"), *[mido.Message("clock")] * (PPQN * 3 + 1))
    wait_for(lambda: clock.state.ticks == PPQN * 3, "the clock ticks")
    state = clock.state
    assert state.running and state.bars_known and state.beats() == 4  # tempo: the burst has none
    merge = BeatMerge(clock)
    merged = merge.apply(FeatureSnapshot(beat_count=0), 1 / 60, now_s=state.last_tick_s)
    assert merge.clock_leads and merged.leader == "clock" and merged.features.beat_confidence == 1.0
    device.send(mido.Message("stop"))
    wait_for(lambda: not clock.state.running, "stop")
    assert merge.apply(FeatureSnapshot(beat_count=0), 1 / 60, now_s=state.last_tick_s).leader == "timed"


def test_clock_tempo_phase_and_the_hand_over_keep_counters_monotonic():
    clock = MidiClock()
    merge = BeatMerge(clock)
    tracker = FeatureSnapshot(beat_count=40, beat_present=True)
    assert merge.apply(tracker, 1.0, now_s=0.0).features.beat_count == 40 and not merge.clock_leads  # no clock yet
    tick_s = 60.0 / (128.0 * PPQN)  # 128 BPM
    clock.feed("start", 0.5)
    for i in range(PPQN * 4 + 6):  # four beats and a quarter
        clock.feed("clock", 1.0 + i * tick_s)
    state = clock.state
    assert state.tempo_bpm == pytest.approx(128.0, rel=1e-9)
    assert state.beats() == 5
    assert state.beat_phase(state.last_tick_s) == pytest.approx(5 / PPQN)  # tick 0 begins a beat
    led = merge.apply(tracker, 1.0, now_s=state.last_tick_s).features  # the clock takes over: no jump
    assert merge.clock_leads and led.beat_count == 40 and led.tempo_bpm == pytest.approx(128.0)
    for i in range(PPQN):  # one more beat on the clock
        clock.feed("clock", 1.0 + (PPQN * 4 + 6 + i) * tick_s)
    assert merge.apply(tracker, 1.0, now_s=clock.state.last_tick_s).features.beat_count == 41
    gone = clock.state.last_tick_s + 1.0  # the clock stops arriving: the tracker leads again
    assert merge.apply(FeatureSnapshot(beat_count=41, beat_present=True), 1.0, now_s=gone).features.beat_count == 41
    assert merge.apply(FeatureSnapshot(beat_count=42, beat_present=True), 1.0, now_s=gone).features.beat_count == 42
    assert not merge.clock_leads


def test_tempo_is_clamped_to_40_240_bpm_from_the_clock_taps_and_tracker():
    # a 600 BPM MIDI clock: beats every 0.1 s arrive, at most one per MIN_BEAT_GAP_S goes on, tempo 240
    clock = MidiClock()
    merge = BeatMerge(clock)
    tick_s = 60.0 / (600.0 * PPQN)
    clock.feed("start", 0.0)
    beats, t = [], 0.0
    for frame in range(120):  # two seconds at 60 fps
        for i in range(round(frame * 600 * PPQN / 60 / 60), round((frame + 1) * 600 * PPQN / 60 / 60)):
            clock.feed("clock", i * tick_s)
        t = (frame + 1) / 60
        merged = merge.apply(FeatureSnapshot(), 1 / 60, now_s=t)
        beats.append(merged.features.beat_count)
    assert merged.leader == "clock" and merged.features.tempo_bpm == MAX_BPM
    assert 7 <= beats[-1] - beats[0] <= 2 * 60 / (60 * MIN_BEAT_GAP_S)  # 20 sent, ≤ 8.9 allowed in 2 s
    # ten taps a second: every third one counts (0.3 s), so the tapped tempo is 200 BPM, never more
    merge = BeatMerge(None)
    for frame in range(120):
        if frame % 6 == 0:
            merge.tap()
        merged = merge.apply(FeatureSnapshot(), 1 / 60)
    assert merged.leader == "tap" and merged.features.tempo_bpm == pytest.approx(200.0, rel=0.01)
    assert merge.taps.ignored > 0
    slow = BeatMerge(None)  # taps 2 s apart (30 BPM) never make a tempo: each starts a new one
    for frame in range(400):
        if frame % 120 == 0:
            slow.tap()
        assert slow.apply(FeatureSnapshot(), 1 / 60).leader == "timed"
    fast = BeatMerge(None).apply(FeatureSnapshot(tempo_bpm=400.0, beat_present=True), 1 / 60)
    assert fast.features.tempo_bpm == MAX_BPM and clamp_bpm(10.0) == MIN_BPM and clamp_bpm(0.0) == 0.0


def test_clock_without_start_is_free_running_with_unknown_bars():
    clock = MidiClock()
    for i in range(PPQN * 2):
        clock.feed("clock", i * 0.02)
    assert clock.state.running and not clock.state.bars_known and clock.state.beats() == 2


def test_the_help_overlay_lists_keys_bindings_and_osc(rig):
    from visualizer.stage.overlay import help_lines

    device, controller, queue, port, folder = rig
    controller.learn("blackout")
    device.send(mido.Message("note_on", note=40, velocity=1))
    drain_until(queue, 2)
    lines = help_lines([("Space", "freeze"), ("?", "this help")], midi_bindings=controller.describe_bindings(),
                       midi_device=controller.name, osc="OSC 127.0.0.1:9000: 0 ok")
    assert lines[:3] == ["Keys", "  Space  freeze", "  ?      this help"]
    assert f"MIDI: tcp:127.0.0.1:{port}" in lines and "  note 40 (ch 1) → blackout" in lines
    assert any("/visualizer/drop" in line for line in lines)
    assert "MIDI: no device (start with --midi [NAME])" in help_lines([], midi_device=None)


def test_an_exception_in_the_reader_is_logged_once_shown_and_the_reader_restarts(rig, monkeypatch, caplog):
    device, controller, queue, port, folder = rig
    monkeypatch.setattr(guard, "BACKOFF_FIRST_S", 0.05)
    drain_until(queue, 1)
    controller.learn("k1")
    device.send(mido.Message("control_change", control=16, value=0))
    drain_until(queue, 1)
    handle = controller.handle

    def failing_on_note_99(message, time_s):
        if message.type == "note_on" and message.note == 99:
            raise RuntimeError("injected fault")
        return handle(message, time_s)

    controller.handle = failing_on_note_99
    assert controller.status == ""
    with caplog.at_level(logging.ERROR, logger="visualizer.background.guard"):
        device.send(mido.Message("note_on", note=99, velocity=1))
        wait_for(lambda: controller.status, "the failure to show")
        device.send(mido.Message("note_on", note=99, velocity=1))
        wait_for(lambda: controller._guard.failures == 2, "the second failure")
        device.send(mido.Message("control_change", control=16, value=127))  # the same connection, still read
        assert drain_until(queue, 1) == [ControlChange("set", name="k1", value=params.spec("k1").hi, source="midi")]
    assert controller.status == "MIDI input failed: RuntimeError: injected fault (restarted, 2×)"
    assert [r.exc_info[0] for r in caplog.records] == [RuntimeError]  # logged once, with its traceback
    assert controller.connections == 1


def stage_with(port: int, monkeypatch, folder, **options):
    """A Stage on a 16×16 session, MIDI from the socket device at ``port``, the user's configuration
    (the bindings) in ``folder``."""
    from visualizer.engine.audio.engine import NoAudio
    from visualizer.engine.session import Session
    from visualizer.stage.stage import Stage, StageOptions

    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    session = Session.from_preset("5meo", size=(16, 16))
    return session, Stage(session, StageOptions(midi=f"tcp:127.0.0.1:{port}", **options), audio=NoAudio(),
                          say=lambda message: None)


def run_frames(session, stage, frames: int = 1):
    from visualizer.engine.audio.features import FeatureSnapshot

    for _ in range(frames):
        features = stage.before_advance(FeatureSnapshot(status="none"), 1 / 60)
        stage.after_advance(features, session.advance(features, 1 / 60))


def test_k3_changed_by_midi_arrives_at_the_osc_clients_touchosc_style(tmp_path, monkeypatch):
    """A knob learned for K3 on a MIDI device (real TCP); its move reaches, over real UDP, both the
    --osc-out listener and the OSC controller that spoke last, on /visualizer/k3 and /k3/norm."""
    from pythonosc.osc_message import OscMessage

    from visualizer.stage.osc import build_message

    listeners = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(WAIT_S)
        listeners.append(sock)
    out, touchosc = listeners
    port = free_port()
    device = Device(port)
    session, stage = stage_with(port, monkeypatch, tmp_path, osc=True, osc_port=0,
                                osc_out=f"127.0.0.1:{out.getsockname()[1]}")
    try:
        device.wait_for_controller()
        wait_for(lambda: stage.midi.connections == 1, "the controller to open the device")
        touchosc.sendto(build_message("/visualizer/get", "k3"), (stage.osc.host, stage.osc.port))  # it speaks
        assert OscMessage(touchosc.recv(65536)).address == "/visualizer/value"
        stage.midi.learn("k3")
        device.send(mido.Message("control_change", control=20, value=0))
        wait_for(lambda: stage.midi.bindings, "the binding")
        run_frames(session, stage)  # the learning move sets K3 to its lowest … and a first state to compare with
        device.send(mido.Message("control_change", control=20, value=100))
        spec = params.spec("k3")
        wanted = spec.lo + (spec.hi - spec.lo) * 100 / 127
        wait_for(lambda: run_frames(session, stage) or session.base.k3 == pytest.approx(wanted), "K3 to move")
        for sock in (out, touchosc):
            got = {}
            while "/visualizer/k3/norm" not in got:
                message = OscMessage(sock.recv(65536))
                got[message.address] = message.params
            assert got["/visualizer/k3"] == [pytest.approx(wanted, abs=1e-5)]
            assert got["/visualizer/k3/norm"] == [pytest.approx(100 / 127, abs=1e-6)]
    finally:
        stage.close()
        device.server.close()
        for sock in listeners:
            sock.close()


def test_a_pad_learned_from_the_ui_fires_its_action_and_its_led_follows(tmp_path, monkeypatch):
    """L (a slider selected), the pad, then B: the pad toggles blackout; the device gets the pad's
    LED on (note on, velocity 127) and off again; a pad learned with the key 2 goes to scene 2."""
    port = free_port()
    device = Device(port)
    session, stage = stage_with(port, monkeypatch, tmp_path)
    try:
        device.wait_for_controller()
        wait_for(lambda: stage.midi.connections == 1, "the controller to open the device")
        stage.key("learn", "k1")
        device.send(mido.Message("note_on", note=36, velocity=100))
        wait_for(lambda: stage.midi.pending_pad is not None, "the pad to wait for its key")
        stage.key("blackout", "k1")
        stage.key("learn", "k1")
        device.send(mido.Message("note_on", note=37, velocity=100))
        wait_for(lambda: stage.midi.pending_pad == ("note", 0, 37), "the second pad")
        stage.key("scene", "k1", number=2)
        assert {b.target for b in stage.midi.bindings.values()} == {"blackout", "scene:1"}
        assert load_bindings(f"tcp:127.0.0.1:{port}").keys() == {("note", 0, 36), ("note", 0, 37)}  # saved
        run_frames(session, stage)
        device.send(mido.Message("note_on", note=36, velocity=100))  # blackout on
        wait_for(lambda: run_frames(session, stage) or stage.performance.stage.blackout, "blackout")
        run_frames(session, stage)
        device.send(mido.Message("note_on", note=36, velocity=100))  # and off
        wait_for(lambda: run_frames(session, stage) or not stage.performance.stage.blackout, "blackout off")
        leds = []
        wait_for(lambda: leds.extend(m for m in device.link.iter_pending() if m.note == 36) or len(leds) >= 3,
                 "the LED messages")
        assert [m.velocity for m in leds[:3]] == [0, 127, 0]  # off when first shown, on, off
        assert all(m.type == "note_on" for m in leds)
    finally:
        stage.close()
        device.server.close()
