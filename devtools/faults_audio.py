"""The fault table's audio rows: each fault is injected into a real AudioEngine, listening to a
null sink's monitor on a private PulseAudio server (``devtools.pulse_server``), while a
Session steps on its features at 60 fps on this thread, as the render loop would.

Every row uses the engine's real thresholds (a device checked every 2 s, a stall after 6 s,
retries every 3 s), so each takes seconds; the row says how long the user was without audio.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from devtools.fault_row import DT, SIZE, Row, captured_log
from devtools.pulse_server import PulseServer
from visualizer.engine.audio.engine import (
    RETRY_SECONDS,
    STALL_SECONDS,
    AudioChoice,
    AudioEngine,
)
from visualizer.engine.session import Session

DEMO = Path(__file__).resolve().parents[1] / "assets" / "demo.flac"
WAIT_S = 30.0  # an upper bound for each step: reached only when the row fails


class LiveRig:
    """An AudioEngine on ``device`` (an input; or a file played, ``file``) and a Session stepped
    on its latest features, frame by frame.

    frames / longest_ms : frames stepped and the longest one (ms): the render loop never waits
    on the audio, whatever the fault. statuses : every status the HUD would have shown.
    """

    def __init__(self, device: str = "", *, file: Path | None = None):
        self.engine = AudioEngine(AudioChoice("file", path=file) if file else AudioChoice("input", device=device))
        self.session = Session.from_preset("5meo", size=SIZE)
        self.frames = 0
        self.longest_ms = 0.0
        self.statuses: list[str] = []

    def __enter__(self) -> LiveRig:
        return self

    def __exit__(self, *exc) -> None:
        self.engine.close()
        self.session.close()

    @property
    def status(self) -> str:
        return self.engine.latest().status

    def step(self) -> None:
        features = self.engine.latest()
        started = time.perf_counter()
        self.session.advance(features, DT)
        self.longest_ms = max(self.longest_ms, (time.perf_counter() - started) * 1e3)
        self.frames += 1
        if not self.statuses or self.statuses[-1] != features.status:
            self.statuses.append(features.status)

    def run_until(self, predicate, timeout_s: float = WAIT_S) -> float | None:
        """Step frames until ``predicate()``; the seconds it took, or None at ``timeout_s``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            self.step()
            if predicate():
                return time.monotonic() - started
            time.sleep(DT)
        return None

    def live(self) -> bool:
        return self.status.startswith("live")

    def flowing(self, seconds: float = 1.0) -> bool:
        """Live, and the analysis moves on by ``seconds`` of audio."""
        heard = self.engine.latest().time_s
        return self.run_until(lambda: self.live() and self.engine.latest().time_s > heard + seconds) is not None

    def started(self) -> bool:
        """Live with audio flowing; the frame counts start afresh (the fault's frames are what count)."""
        ok = self.run_until(self.live) is not None and self.flowing()
        self.frames, self.longest_ms = 0, 0.0
        return ok

    def loop_note(self) -> str:
        return f"render loop: {self.frames} frames, longest {self.longest_ms:.0f} ms"


def lost_and_found(rig: LiveRig, take_away, give_back, *, what: str, says: tuple[str, ...]) -> Row:
    """The shared shape of the device-loss rows: live → ``take_away()`` → "lost", the problem
    saying one of ``says`` and that it retries → ``give_back()`` → live with audio flowing, by
    itself, the problem cleared."""
    if not rig.started():
        return Row(what, "", f"never went live: {rig.engine.problem!r}", False, "?")
    take_away()
    lost_after = rig.run_until(lambda: rig.status == "lost")
    problem = rig.engine.problem
    give_back()
    back_after = rig.run_until(rig.live)
    flowing = back_after is not None and rig.flowing()
    reason = any(why in problem for why in says) and problem.endswith(f"retrying every {RETRY_SECONDS:.0f} s")
    passed = lost_after is not None and reason and flowing and rig.engine.reconnects >= 1 and rig.engine.problem == ""
    gone = "?" if lost_after is None or back_after is None else f"{back_after:.1f} s after it came back"
    happened = (f"'lost' after {_s(lost_after)} ({problem}); 'live' again {gone}, audio flowing: {flowing}; "
                f"reconnects {rig.engine.reconnects}; {rig.loop_note()}")
    return Row(what, "HUD 'audio: lost' with the reason in the log; 'live' again by itself; the visuals never stop",
               happened, passed, "the audio while it was away (tempo and levels kept)")


def _s(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f} s"


def pulseaudio_killed(server: PulseServer) -> Row:
    try:
        with LiveRig(f"{server.sink}.monitor") as rig:
            return lost_and_found(rig, server.kill, server.start, what="PulseAudio killed (SIGKILL), then restarted",
                                  says=("stopped", f"delivered no audio for {STALL_SECONDS:.0f} s", "is gone"))
    finally:
        if not server.running():
            server.start()


def sink_removed(server: PulseServer) -> Row:
    name = f"vis_fault_{time.monotonic_ns() % 10**9}"
    modules = [server.load_null_sink(name)]
    try:
        with LiveRig(f"{name}.monitor") as rig:
            return lost_and_found(rig, lambda: server.unload_module(modules.pop()),
                                  lambda: modules.append(server.load_null_sink(name)),
                                  what="the monitored sink removed, then added again",
                                  says=("is gone", f"delivered no audio for {STALL_SECONDS:.0f} s"))  # first check wins
    finally:
        for module in modules:
            server.unload_module(module)


def source_suspended(server: PulseServer) -> Row:
    name = f"vis_fault_{time.monotonic_ns() % 10**9}"
    module = server.load_null_sink(name)
    try:
        with LiveRig(f"{name}.monitor") as rig:
            return lost_and_found(rig, lambda: server.pactl("suspend-sink", name, "1"),
                                  lambda: server.pactl("suspend-sink", name, "0"),
                                  what="the source suspended (its sink suspended), then resumed",
                                  says=(f"delivered no audio for {STALL_SECONDS:.0f} s",))
    finally:
        server.unload_module(module)


def pactl_hanging(server: PulseServer) -> Row:
    what = "pactl hanging (a pactl that never answers), then failing (exit 1)"
    device = f"pulse:{server.sink}.monitor"
    with tempfile.TemporaryDirectory() as folder, LiveRig(f"{server.sink}.monitor") as rig:
        if not rig.started():
            return Row(what, "", f"never went live: {rig.engine.problem!r}", False, "?")
        shim = Path(folder) / "pactl"
        shim.write_text("#!/bin/sh\nexec sleep 600\n")
        shim.chmod(0o755)
        path = os.environ["PATH"]
        os.environ["PATH"] = f"{folder}{os.pathsep}{path}"
        try:
            shown = rig.run_until(lambda: "could not check" in rig.status)
            status = rig.status
            flowing_hung = rig.flowing(seconds=2.0)
            shim.write_text("#!/bin/sh\necho 'Connection failure: Connection refused' >&2\nexit 1\n")
            flowing_failing = rig.flowing(seconds=3.0) and "could not check" in rig.status
        finally:
            os.environ["PATH"] = path
        cleared = rig.run_until(lambda: "could not check" not in rig.status)
        never_lost = all(s != "lost" for s in rig.statuses)
        passed = (shown is not None and status.startswith(f"live: {device} (could not check it: PulseAudio did not "
                                                            "answer)") and flowing_hung and flowing_failing
                  and cleared is not None and rig.status.startswith(f"live: {device}") and never_lost
                  and rig.engine.reconnects == 0)
        return Row(what, "'(could not check it: PulseAudio did not answer)' beside 'live'; listening goes on; "
                   "never 'lost'",
                   f"shown after {_s(shown)}: {status!r}; audio flowing while it hung: {flowing_hung}, while it "
                   f"failed: {flowing_failing}; cleared {_s(cleared)} after pactl answered again; ever 'lost': "
                   f"{not never_lost}; reconnects {rig.engine.reconnects}; {rig.loop_note()}", passed, "nothing")


def callback_stall(server: PulseServer) -> Row:
    what = "the audio callback stalls for 2 s"
    with LiveRig(f"{server.sink}.monitor") as rig:
        if not rig.started():
            return Row(what, "", f"never went live: {rig.engine.problem!r}", False, "?")
        source = rig.engine._source
        ring, write = source.ring, source.ring.write
        stalled = threading.Event()

        def stalling_write(block):
            if not stalled.is_set():
                stalled.set()
                time.sleep(2.0)  # inside PortAudio's callback thread
            return write(block)

        written, wall, overflows = ring.written, time.monotonic(), rig.engine.latest().overflows
        ring.write = stalling_write
        began = rig.run_until(stalled.is_set)
        rig.run_until(lambda: False, timeout_s=2.0 + STALL_SECONDS / 2)
        missing_s = (time.monotonic() - wall) - (ring.written - written) / source.sr
        flowing = rig.flowing()
        overflows = rig.engine.latest().overflows - overflows
        ever_lost = any(s == "lost" for s in rig.statuses)
        passed = began is not None and flowing and not ever_lost and rig.engine.reconnects == 0
        return Row(what, f"nothing (under the {STALL_SECONDS:.0f} s stall limit: no false 'lost', no reconnect)",
                   f"ever 'lost': {ever_lost}; reconnects {rig.engine.reconnects}; xruns +{overflows}; audio "
                   f"flowing after: {flowing}; {rig.loop_note()}", passed,
                   f"{max(missing_s, 0.0):.1f} s of audio short of the wall clock (what the stream dropped)")


def analysis_exception(server: PulseServer) -> Row:
    what = "an exception inside the analysis thread"
    with LiveRig(f"{server.sink}.monitor") as rig, captured_log("visualizer.background.guard", logging.ERROR) as records:
        if not rig.started():
            return Row(what, "", f"never went live: {rig.engine.problem!r}", False, "?")
        analyser = rig.engine._analyser
        push = analyser.push
        calls = []

        def failing_once(block):
            calls.append(1)
            if len(calls) == 1:
                raise FloatingPointError("injected fault")
            return push(block)

        analyser.push = failing_once
        shown = rig.run_until(lambda: "audio analysis failed" in rig.status)
        flowing = rig.flowing()
        status = rig.status.removesuffix(" (silence)")
        logged = [r.exc_info[0].__name__ for r in records if r.exc_info]
        passed = (shown is not None and flowing and logged == ["FloatingPointError"] and rig.engine.reconnects == 0
                  and status == f"live: pulse:{server.sink}.monitor; audio analysis failed: FloatingPointError: "
                                "injected fault (restarted, 1×)"
                  and rig.engine.problem.startswith("audio analysis failed: FloatingPointError: injected fault"))
        return Row(what, "HUD '…; audio analysis failed: FloatingPointError: … (restarted, 1×)'; one ERROR with "
                   "its traceback; the analysis restarts",
                   f"shown after {_s(shown)}: {status!r}; logged {logged}; analysing again: {flowing}; "
                   f"{rig.loop_note()}", passed, "the block being analysed (≈ 6 ms of audio)")


def portaudio_missing(server: PulseServer) -> Row:
    """The real command line, in a child whose ``sounddevice`` fails as it does without PortAudio."""
    with tempfile.TemporaryDirectory() as folder:
        fake = Path(folder) / "fake"
        fake.mkdir()
        (fake / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
        shot = Path(folder) / "shot.png"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(fake), os.environ.get("PYTHONPATH")))),
                   SDL_VIDEODRIVER="dummy")
        result = subprocess.run([sys.executable, "-m", "visualizer", "--input", f"{server.sink}.monitor",
                                 "--headless", "--frames", "30", "--size", "32", "--screenshot", str(shot)],
                                capture_output=True, text=True, env=env, timeout=300)
        saved = shot.exists()
    lines = [line for line in result.stderr.splitlines() if "PortAudio" in line]
    passed = result.returncode == 0 and saved and len(lines) == 1 and "libportaudio2" in lines[0]
    return Row("PortAudio missing (sounddevice cannot load it)", "one line naming the package to install; the "
               "visuals run without sound",
               f"exit {result.returncode}; frames drawn and saved: {saved}; {len(lines)} line(s): "
               f"{lines[0][:80] if lines else result.stderr[-200:]!r}", passed, "the audio")


def truncated_file(server: PulseServer) -> Row:
    """A FLAC cut off after an eighth (its header still promises the whole song), played live."""
    what = "a truncated FLAC played (--play): the header passes, decoding fails part-way"
    with tempfile.TemporaryDirectory() as folder:
        song = Path(folder) / "cut.flac"
        whole = DEMO.read_bytes()
        song.write_bytes(whole[: len(whole) // 8])  # ≈ 6 s of the 48 s
        with LiveRig(file=song) as rig:
            stopped = rig.run_until(lambda: rig.status.endswith("(stopped)"), timeout_s=120.0)
            heard_s = rig.engine.latest().time_s
            frames = rig.frames
            rig.run_until(lambda: False, timeout_s=1.0)
            going_on = rig.frames > frames and not rig.engine.finished and rig.engine._analysis.alive
            problem = rig.engine.problem
    passed = (stopped is not None and problem.startswith(f"{song}: cannot decode audio after ")
              and problem.endswith("playback stopped there, the visuals go on") and heard_s > 3.0 and going_on)
    return Row(what, "the decodable part plays; then one line (log and HUD) naming the file and the time it "
               "stopped at; the visuals go on", f"stopped after {_s(stopped)} with {heard_s:.1f} s heard: "
               f"{problem!r}; frames go on: {going_on}; {rig.loop_note()}", passed, "the undecodable rest")


AUDIO_FAULTS = (pulseaudio_killed, sink_removed, source_suspended, pactl_hanging, portaudio_missing, callback_stall,
                analysis_exception, truncated_file)
