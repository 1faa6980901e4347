"""``python -m devtools.faults [--json] [--only NAME …] [--repeat N]``: inject faults into a real
running Session and say what happened. Each row: the fault, what a user should see, what happened,
pass/fail, and what was lost (and how long the row took). ``--only`` runs the rows whose name
contains one of the NAMEs (``--only sigterm``: the signal rows); ``--repeat`` runs each N times
(a rare failure, beside busy loops).

The rows here cover the field, the files and the controllers (malformed OSC over real UDP,
malformed MIDI over a real socket port); ``faults_reliability`` runs the program in subprocesses
for issue 30's rows (signals, bad OSC options, no display, broken bindings, preset folders);
``faults_audio`` injects the audio faults into a real
AudioEngine on a private PulseAudio server started for the table. ``tests/test_faults.py`` runs
every row and asserts it passes (so ``.ci/run`` does).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from devtools.fault_row import DT, SIZE, Row, captured_log
from devtools.faults_reliability import RELIABILITY_FAULTS
from visualizer.engine import params, presets
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import MAX_FRAME_DT_S, Session


def run_frames(session: Session, frames: int, features: FeatureSnapshot = FeatureSnapshot(status="faults")):
    state = None
    for _ in range(frames):
        state = session.advance(features, DT)
    return state


def wait_for_modes(session: Session, deadline: float) -> None:
    """Until the session's eigenmodes (a nice-19 child's work) have arrived, or ``deadline``
    (``time.monotonic()`` s)."""
    while session.eigenmodes_busy and time.monotonic() < deadline:
        time.sleep(0.05)


def nan_in_theta() -> Row:
    session = Session.from_preset("5meo", size=SIZE)
    run_frames(session, 30)
    session.field.theta[10:20, 10:20] = np.nan
    state = run_frames(session, 12)
    finite = bool(np.isfinite(state.theta).all())
    return Row("NaN forced into θ (100 cells)", "the cells are redrawn; the picture keeps moving",
               f"all phases finite after 12 frames: {finite}", finite, "the 100 cells' phases")


def nan_in_a_feature() -> Row:
    session = Session.from_preset("nn-dmt", size=SIZE)
    bad = FeatureSnapshot(status="faults", energy=float("nan"), bass=float("inf"), mid=-1.0)
    state = run_frames(session, 30, bad)
    ok = bool(np.isfinite(state.theta).all()) and all(np.isfinite(v) for v in state.params.as_dict().values())
    return Row("NaN/inf in the audio features", "the routes ignore them; the field runs on",
               f"params and phases finite: {ok}; K3 = {state.params.k3:.1f}", ok, "nothing")


def extreme_constants() -> Row:
    """The bases are clamped to the registry's limits; the live values (the preset's routes act
    on them: 5meo's slow the field in quiet) stay within its ranges."""
    session = Session.from_preset("5meo", size=SIZE)
    extremes = (("k1", 1e6), ("k2", -1e6), ("speed", 10.0), ("temperature", 1e9))
    for name, value in extremes:
        session.set_base(name, value)
    state = run_frames(session, 30)
    clamped = [state.base.get(name) == params.clamp(name, value) for name, value in extremes]
    inside = [params.spec(name).lo <= state.params.get(name) <= params.spec(name).hi for name, _ in extremes]
    ok = all(clamped) and all(inside) and np.isfinite(state.theta).all()
    return Row("extreme constants (K = ±1e6, speed 10, T = 1e9)", "clamped to the registry's ranges",
               "base " + ", ".join(f"{name} {state.base.get(name):g}" for name, _ in extremes)
               + "; live " + ", ".join(f"{name} {state.params.get(name):g}" for name, _ in extremes),
               bool(ok), "nothing")


def extreme_time_step() -> Row:
    session = Session.from_preset("5meo", size=SIZE)
    state = run_frames(session, 30)
    with captured_log("visualizer.engine.session") as records:
        moved, time_s = [], state.time_s
        for dt in (10.0, 10.0, float("nan"), -1.0, float("inf"), 10.0):
            before = np.array(state.theta)
            state = session.advance(FeatureSnapshot(status="faults"), dt)
            moved.append(float(np.abs(np.angle(np.exp(1j * (state.theta - before)))).mean()))
    session.close()
    finite = bool(np.isfinite(state.theta).all()) and all(map(math.isfinite, state.params.as_dict().values()))
    advanced = state.time_s - time_s
    warnings = [r.getMessage() for r in records]
    ok = finite and min(moved) > 0 and advanced == 4 * MAX_FRAME_DT_S and len(warnings) == 1
    return Row("extreme frame time (dt = 10 s, NaN, −1, inf)",
               f"clamped to 0..{MAX_FRAME_DT_S:g} s a frame, one warning; the field stays finite and moving",
               f"finite: {finite}; mean |Δθ| per frame {min(moved):.3f}..{max(moved):.3f} rad; clock +{advanced:g} s "
               f"for 4 long frames; {len(warnings)} warning(s): {warnings[0][:60] if warnings else ''!r}",
               ok, "the simulated time beyond the clamp")


def eigenmodes_fail() -> Row:
    session = Session.from_preset("5meo", size=SIZE)
    cache = session._harmonics_cache
    wait_for_modes(session, time.monotonic() + 120)  # the first modes, before the next computation breaks

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")
    cache._compute = broken  # the next recompute fails
    session.set_base("k1", -15.0)
    deadline = time.monotonic() + 20
    while not cache.status and time.monotonic() < deadline:
        run_frames(session, 5)
        time.sleep(0.05)
    state = run_frames(session, 10)
    session.close()
    ok = cache.status.startswith("eigenmodes failed") and not session.eigenmodes_busy and np.isfinite(state.theta).all()
    return Row("the eigenmode computation fails", "a status line; the previous modes stay in use",
               f"status {cache.status!r}, busy {session.eigenmodes_busy}", bool(ok), "the new kernel's modes")


def corrupt_eigenmode_cache() -> Row:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CACHE_HOME"] = folder
        session = Session.from_preset("5meo", size=SIZE)
        session.set_base("k_sw", 10.0)  # small-world coupling on: graph eigenmodes, cached on disk
        run_frames(session, 2)
        deadline = time.monotonic() + 60
        wait_for_modes(session, deadline)
        session.close()
        files = list(Path(folder).rglob("*.npz"))
        for f in files:
            f.write_bytes(b"garbage")
        again = Session.from_preset("5meo", size=SIZE)
        again.set_base("k_sw", 10.0)
        run_frames(again, 2)
        wait_for_modes(again, deadline)
        state = run_frames(again, 10)
        again.close()
        del os.environ["XDG_CACHE_HOME"]
    ok = bool(files) and np.isfinite(state.theta).all() and not again._harmonics_cache.status
    return Row("a corrupt eigenmode cache file", "recomputed, a warning in the log",
               f"{len(files)} cache files garbled; recomputed without error: {ok}", bool(ok), "nothing")


def garbage_preset() -> Row:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mine.toml"
        path.write_text("name = 'x'\ndescription = 'y'\n[coupling]\nk = 'strong'\n")
        try:
            presets.load(path)
            return Row("a preset edited to garbage", "one line naming file and key", "it loaded", False, "-")
        except presets.PresetError as e:
            message = str(e)
    ok = "\n" not in message and "mine.toml" in message and "k = 'strong'" in message
    return Row("a preset edited to garbage", "one line naming the file, the key and what is allowed",
               message[:90], ok, "nothing: the running preset stays (N/P skip broken ones)")


def unwritable_screenshot() -> Row:
    """S into a read-only dir and into a path behind a file."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from visualizer.engine.audio.engine import AudioChoice
    from visualizer.window.app import App, AppOptions

    with tempfile.TemporaryDirectory() as folder, read_only_dir(Path(folder) / "ro") as read_only:
        blocker = Path(folder) / "file"
        blocker.write_text("")
        app = App(AppOptions(preset="5meo", size=SIZE, headless=True, window=(320, 240), audio=AudioChoice("none")))
        said = []
        try:
            for path in (read_only / "shot.png", blocker / "shot.png"):
                saved = app.screenshot(path)
                app.frame()
                said.append(app.hud_model.message[0] if saved is None else f"saved {saved}")
            running = app.running
        finally:
            app.close()
    ok = running and len(said) == 2 and all(m.startswith("screenshot not saved") for m in said)
    return Row("a screenshot into a read-only dir / behind a file", "a HUD message; the visuals keep running",
               f"said {' / '.join(repr(m.rsplit(': ', 1)[-1]) for m in said)}; running: {running}", ok,
               "the screenshot")


def screenshot_to_full_disk() -> Row:
    """S (the app) and ``--screenshot`` (the command line) into /dev/full, where every write
    fails with ENOSPC as on a full disk."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from visualizer.engine.audio.engine import AudioChoice
    from visualizer.window.app import App, AppOptions

    app = App(AppOptions(preset="5meo", size=SIZE, headless=True, window=(320, 240), audio=AudioChoice("none")))
    try:
        saved = app.screenshot(Path("/dev/full"))
        app.frame()
        message, running = app.hud_model.message[0], app.running
    finally:
        app.close()
    cli = subprocess.run([sys.executable, "-m", "visualizer", "--no-audio", "--headless", "--frames", "5", "--size",
                          "32", "--screenshot", "/dev/full"], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, SDL_VIDEODRIVER="dummy"))
    err = [line for line in cli.stderr.splitlines() if "error" in line]
    full = "No space left on device"
    ok = (saved is None and running and full in message and cli.returncode == 2 and len(err) == 1 and full in err[0]
          and "saved" not in cli.stdout.replace("not saved", ""))
    return Row("a screenshot into /dev/full (a full disk)", "S: a HUD message, the visuals run on; --screenshot: "
               "one line, exit 2, never 'saved'",
               f"S: {message!r}, running {running}; --screenshot: exit {cli.returncode}, "
               f"{err[-1][:70] if err else ''!r}", ok, "the screenshot")


TINY_SESSION = """name = "fault"
description = "two short phases"
preset = "5meo"
transition_s = 1.0
fade_in_s = 1.0
fade_out_s = 1.0

[[phase]]
name = "warm"
duration_s = 3.0

[[phase]]
name = "cool"
duration_s = 3.0
cooling = "linear"
"""


@contextlib.contextmanager
def read_only_dir(folder: Path):
    """``folder`` made read-only for real: a read-only tmpfs mounted on it when running as root
    (permissions do not stop root), otherwise mode 0555. Yields a dir inside it to write into."""
    folder.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], check=True,
                       capture_output=True)
        try:
            yield folder / "inside"
        finally:
            subprocess.run(["umount", str(folder)], check=False, capture_output=True)
    else:
        folder.chmod(0o555)
        try:
            yield folder / "inside"
        finally:
            folder.chmod(0o755)


def read_only_config_dir() -> Row:
    """U (save as user preset) on stage, with the user config dir on a read-only filesystem."""
    from visualizer.engine.audio.engine import NoAudio
    from visualizer.stage.stage import Stage, StageOptions

    messages: list[str] = []
    session = Session.from_preset("5meo", size=SIZE)
    with tempfile.TemporaryDirectory() as folder, read_only_dir(Path(folder) / "ro") as config:
        os.environ["XDG_CONFIG_HOME"] = str(config)
        try:
            stage = Stage(session, StageOptions(), audio=NoAudio(), say=messages.append)
            stage.key("save_preset", "k1")  # the U key
            happened, ok = f"said {messages[-1]!r}" if messages else "said nothing", \
                bool(messages) and messages[-1].startswith("user preset not saved")
            stage.close()
        except Exception as e:  # noqa: BLE001 — on stage this would end the show
            happened, ok = f"raised {type(e).__name__}: {e}", False
        finally:
            del os.environ["XDG_CONFIG_HOME"]
            session.close()
    return Row("the config dir read-only (U saves a user preset)", "a HUD message; the show goes on", happened, ok,
               "the preset being saved")


def session_report_unwritable() -> Row:
    """``visualizer session FILE --fast --report DIR`` when DIR's report.json goes to a full disk
    (a link to /dev/full, where every write fails with ENOSPC) and when DIR is on a read-only
    filesystem."""
    from visualizer.meditation.cli import main as session_main

    outcomes = []
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "fault.toml"
        plan.write_text(TINY_SESSION)
        full = Path(folder) / "full"
        full.mkdir()
        (full / "report.json").symlink_to("/dev/full")
        with read_only_dir(Path(folder) / "ro") as read_only:
            for directory in (full, read_only):
                err = io.StringIO()
                with contextlib.redirect_stderr(err):
                    code = session_main([str(plan), "--fast", "--report", str(directory)])
                lines = err.getvalue().strip().splitlines()
                left = sorted(p.name for p in directory.glob("*")) if directory.exists() else []
                outcomes.append((code, lines, left))
    reasons = ("No space left on device", "Read-only file system" if os.geteuid() == 0 else "Permission denied")
    ok = all(code == 1 and len(lines) == 1 and reason in lines[0] and not left
             for (code, lines, left), reason in zip(outcomes, reasons))
    return Row("session report to a full disk / a read-only dir", "one line naming the file and why, exit 1; "
               "no half-written file",
               "; ".join(f"exit {code}, {lines[-1][27:100] if lines else ''!r}, left {left}"
                         for code, lines, left in outcomes), ok, "the report (the session itself ran)")


def garbage_datagrams(count: int, seed: int = 0) -> list[bytes]:
    """Malformed OSC: hand-made edge cases, then valid messages and bundles truncated, with
    bytes flipped, or replaced by random bytes."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    from visualizer.stage.osc import build_message

    bundle = OscBundleBuilder(IMMEDIATELY)
    for value in (1.0, 2.0):
        message = OscMessageBuilder("/visualizer/k2")
        message.add_arg(value, "f")
        bundle.add_content(message.build())
    valid = [build_message("/visualizer/k1", 5.0), build_message("/visualizer/preset", "5meo"),
             build_message("/visualizer/get", "k1"), build_message("/visualizer/scene", 1), bundle.build().dgram]
    cases = [b"", b"\0" * 4, b"#bundle\0", b"#bundle\0" + b"\0" * 8 + b"\xff\xff\xff\xff",
             b"#bundle\0" + b"\0" * 8 + b"\x00\x00\x00\x40" + b"#bundle\0" * 8,
             b"/visualizer/k1\0\0,f\0\0", b"/visualizer/k1\0\0,ffffffff\0\0\0\0",
             b"/visualizer/k1\0\0,f\0\0" + struct.pack(">f", float("nan")),
             b"/visualizer/k1\0\0,b\0\0\x7f\xff\xff\xff", b"/visualizer/k1\0\0,\xff\0\0\0\0\0\0",
             build_message("/visualizer/preset", "x" * 4000), build_message("/visualizer/preset", "../../etc/passwd"),
             build_message("/visualizer/k1", float("inf")), build_message("/visualizer/scene", 1e12)]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        data = bytearray(valid[len(cases) % len(valid)])
        how = len(cases) % 3
        if how == 0:
            data = data[:rng.integers(1, len(data))]
        elif how == 1:
            for i in rng.integers(0, len(data), rng.integers(1, 4)):
                data[i] = rng.integers(0, 256)
        else:
            data = bytearray(rng.integers(0, 256, rng.integers(1, 64), dtype=np.uint8).tobytes())
        cases.append(bytes(data))
    return cases


def malformed_osc() -> Row:
    from visualizer.stage.osc import OscServer, build_message
    from visualizer.stage.performance import Performance

    session = Session.from_preset("5meo", size=SIZE)
    performance = Performance(session, say=lambda message: None)
    server = OscServer(performance.queue, read_value=lambda name: (session.base.get(name), performance.live.get(name)),
                       port=0)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    features, frames, longest_ms = FeatureSnapshot(status="faults"), 0, 0.0

    def frame():
        nonlocal frames, longest_ms
        started = time.perf_counter()
        performance.before_advance(features, DT)
        session.advance(features, DT)
        longest_ms = max(longest_ms, (time.perf_counter() - started) * 1e3)
        frames += 1

    garbage = garbage_datagrams(3000)
    try:
        with captured_log("") as records:  # every logger: python-osc's own warnings go to the root
            deadline = time.monotonic() + 60
            for start in range(0, len(garbage), 100):
                for datagram in garbage[start:start + 100]:
                    sender.sendto(datagram, (server.host, server.port))
                frame()
                while server.received < min(start + 100, len(garbage)) and time.monotonic() < deadline:
                    time.sleep(0.002)  # the socket's buffer holds a few hundred: pace on the listener, lose none
            deadline = time.monotonic() + 20
            while session.base.k3 != 5.5 and time.monotonic() < deadline:  # UDP may drop one: send again
                sender.sendto(build_message("/visualizer/k3", 5.5), (server.host, server.port))
                for _ in range(6):
                    frame()
                    time.sleep(DT)
        received, problems, accepted = server.received, dict(server.problems), server.accepted
        status, failures, alive = server.status, server._guard.failures, server._guard.alive
    finally:
        sender.close()
        server.close()
        session.close()
    warnings = [r for r in records if r.levelno >= logging.WARNING]
    ok = (session.base.k3 == 5.5 and failures == 0 and alive and status == "" and received >= len(garbage)
          and sum(problems.values()) + accepted >= received and len(warnings) == len(problems))
    return Row(f"malformed OSC over real UDP ({len(garbage)} datagrams, bundles among them)",
               "counted by kind, one log line per kind; valid messages still work; the render loop never waits",
               f"{received} received: {problems}, {accepted} accepted; {len(warnings)} log lines; listener failures "
               f"{failures}; K3 set afterwards: {session.base.k3 == 5.5}; {frames} frames, longest {longest_ms:.0f} ms",
               ok, "nothing (the garbage)")


MIDI_GARBAGE = bytes([
    0x10, 0x20, 0x7F,  # data bytes with no status byte
    0x90, 0x3C,  # a note-on cut short by the next status byte
    0xB0, 0x10,  # a control change cut short
    0xF4, 0xF5, 0xFD,  # undefined status bytes
    0xF0, 0x01, 0x02, 0x03,  # a sysex that never ends …
    0xC0, 0x05, 0xE0, 0x00,  # … interrupted by a program change and a pitch bend cut short
    0xF7, 0xF7, 0xFF, 0x00, 0xF2, 0x7F,  # stray end of sysex, a reset, a song position cut short
]) * 40


def malformed_midi() -> Row:
    """Garbage bytes from a real TCP MIDI port (the controller connects to ``tcp:HOST:PORT`` as to
    a remote device); a virtual ALSA port would need the ALSA sequencer (/dev/snd/seq)."""
    import mido

    from visualizer.engine.params import spec
    from visualizer.stage.midi import Binding, MidiController, save_bindings
    from visualizer.stage.performance import Performance

    virtual = "no ALSA sequencer here (/dev/snd/seq missing): a TCP port instead" \
        if not Path("/dev/snd/seq").exists() else "a TCP port (the same parser as an ALSA port's)"
    session = Session.from_preset("5meo", size=SIZE)
    performance = Performance(session, say=lambda message: None)
    listener = socket.create_server(("127.0.0.1", 0))
    device = f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    features, frames = FeatureSnapshot(status="faults"), 0
    session.set_base("k1", 0.0)  # the knob will turn it to the top of its range
    with tempfile.TemporaryDirectory() as folder:
        save_bindings(device, {("cc", 0, 16): Binding("cc", 0, 16, "k1")}, Path(folder))
        controller = MidiController(performance.queue, device=device, folder=Path(folder))
        listener.settimeout(20)
        try:
            link, _ = listener.accept()
            for _ in range(3):
                link.sendall(MIDI_GARBAGE)
                performance.before_advance(features, DT)
                session.advance(features, DT)
                frames += 1
            link.sendall(bytes([0xF7]) + mido.Message("control_change", control=16, value=127).bin())
            deadline = time.monotonic() + 20
            while session.base.k1 != spec("k1").hi and time.monotonic() < deadline:
                performance.before_advance(features, DT)
                session.advance(features, DT)
                frames += 1
                time.sleep(DT)
            status, failures, connections = controller.status, controller._guard.failures, controller.connections
            received = controller.received
            link.close()
        finally:
            controller.close()
            listener.close()
            session.close()
    applied = session.base.k1 == spec("k1").hi
    ok = applied and failures == 0 and status == "" and connections == 1
    return Row(f"malformed MIDI ({3 * len(MIDI_GARBAGE)} garbage bytes)",
               "bytes that form no message are dropped; the device stays connected; valid messages still work",
               f"via {virtual}; {received} messages parsed out of it; reader failures {failures}; connections "
               f"{connections}; the knob after it applied: {applied}; {frames} frames", ok, "nothing (the garbage)")


def strobe_and_taps_over_osc() -> Row:
    """The flash attack a VJ found (issue 31): strobe on, then /visualizer/tap ten times a second,
    through the real app (headless, --no-audio, OSC over real UDP), flashes counted on the frames
    as presented by ``devtools.flash_count``, an independent per-pixel WCAG counter."""
    from devtools.bench_vj import flash_attack

    seconds = 4.0
    run = flash_attack("strobe+tap", preset="nn-dmt", limit=True, seconds=seconds)
    ok = run["flashes_per_s"] <= 3
    return Row("strobe + 10 taps/s over OSC (nn-dmt, limiter on)",
               "the tapped tempo is held to 240 BPM at most; the flash limiter keeps the screen to ≤ 3 flashes/s",
               f"most flashes in any second of any 10° field: {run['flashes_per_s']} over {seconds:g} s "
               f"({run['limited_frames']} of {run['frames']} frames limited)", ok,
               "the strobe's brightest frames, softened")


FAULTS: tuple[Callable[[], Row], ...] = (
    nan_in_theta, nan_in_a_feature, extreme_constants, extreme_time_step, eigenmodes_fail, corrupt_eigenmode_cache,
    garbage_preset, unwritable_screenshot, screenshot_to_full_disk, read_only_config_dir, session_report_unwritable,
    malformed_osc, malformed_midi, strobe_and_taps_over_osc, *RELIABILITY_FAULTS)


def run_row(fault: Callable[..., Row], *args) -> dict:
    """One row as a dict, with the seconds it took; a fault that escapes is itself a failed row."""
    started = time.monotonic()
    try:
        row = fault(*args)
    except Exception as e:  # noqa: BLE001 — a fault that escapes is the finding
        row = Row(fault.__name__, "handled", f"escaped: {type(e).__name__}: {e}", False, "?")
    return {**asdict(row), "seconds": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only the rows whose name contains NAME (repeatable; e.g. sigterm)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="run each row N times (default 1)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be 1 or more, not {args.repeat}")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    logging.basicConfig(handlers=[logging.NullHandler()])  # the rows read the log themselves; the table says it
    from devtools.faults_audio import AUDIO_FAULTS
    from devtools.pulse_server import PulseServer, PulseUnavailable

    def chosen(faults):
        return [f for f in faults if not args.only or any(name in f.__name__ for name in args.only)] * args.repeat

    faults, audio_faults = chosen(FAULTS), chosen(AUDIO_FAULTS)
    if not faults and not audio_faults:
        parser.error(f"no row's name contains {' or '.join(args.only)}; the rows: "
                     + ", ".join(f.__name__ for f in FAULTS + AUDIO_FAULTS))
    started = time.monotonic()
    rows = [run_row(fault) for fault in faults]
    if audio_faults:
        try:
            with PulseServer() as server:
                rows += [run_row(fault, server) for fault in audio_faults]
        except PulseUnavailable as e:
            rows += [asdict(Row(fault.__name__, "", f"no private sound server: {e}", False, "?"))
                     for fault in audio_faults]
    total = time.monotonic() - started
    if args.json:
        json.dump({"rows": rows, "seconds": round(total, 1)}, sys.stdout, indent=1)
        print()
    else:
        for r in rows:
            print(f"{'PASS' if r['passed'] else 'FAIL'}  {r['fault']}  ({r.get('seconds', 0):.1f} s)\n"
                  f"      should see: {r['expected']}\n      happened:   {r['happened']}\n"
                  f"      lost:       {r['lost']}")
        print(f"{sum(r['passed'] for r in rows)}/{len(rows)} rows pass in {total:.0f} s")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":  # SIGTERM ends it like Ctrl-C (before SDL could take it)
    from visualizer.system.signals import until_interrupted

    raise SystemExit(until_interrupted(main, "python -m devtools.faults", exit_now=True))
