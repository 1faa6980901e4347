"""The fault table's rows for issue 30 ("Reliability, round two"): interrupted renders and
recordings, SIGTERM in every command and developer tool, OSC options that cannot work, no
display, a broken MIDI binding, a monitor with no sound server, unreadable preset folders.

Every row runs the real program in a subprocess (real signals, real UDP on 127.0.0.1, real
files, FIFOs and permissions) with a timeout on each: a row that hangs fails instead. Readiness
is never a sleep: a row signals a process once it shows it is running (its progress on stderr,
a log line, or its SIGTERM handler installed, read from /proc).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from devtools.fault_row import DT, SIZE, Row, captured_log

ROOT = Path(__file__).resolve().parents[1]
# an upper bound on any one wait for a subprocess, reached only when the row fails: well below
# pytest-timeout's 300 s, so a hang fails its row with the child's stacks instead of ending the run
TIMEOUT_S = 120.0
DEMO = ROOT / "assets" / "demo.flac"


# -- helpers (tests/test_reliability.py uses them too) ---------------------------------------
def environment(**changes: str | None) -> dict[str, str]:
    """This process's environment with ``changes`` (None removes a variable); SDL dummy and
    Python's faulthandler on unless changed."""
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1",
               PYTHONFAULTHANDLER="1")  # a child that hangs dumps its threads' stacks on SIGABRT
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def visualizer(*args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
               timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """``python -m visualizer ARGS`` to the end (at most ``timeout`` s); stdout, stderr as text."""
    return subprocess.run([*prefix, sys.executable, "-m", "visualizer", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env or environment(), timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def lines(text: str) -> list[str]:
    """The non-empty lines of ``text`` (a progress bar's redraws, split at \\r, left out)."""
    return [line for line in text.replace("\r", "\n").splitlines() if line.strip() and "|" not in line]


class Started:
    """A child started with its stderr going to a file (read while it runs)."""

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None, folder: Path):
        self.err_path = folder / f"stderr-{time.monotonic_ns()}"
        self._err = open(self.err_path, "w")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env or environment(), stdout=subprocess.PIPE,
                                        stderr=self._err, stdin=subprocess.DEVNULL, text=True)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def wait_until(self, predicate, timeout: float = TIMEOUT_S) -> bool:
        """Poll ``predicate(self)`` until true (True), the child ended or ``timeout`` (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            if self.process.poll() is not None:
                return bool(predicate(self))
            time.sleep(0.05)
        return False

    def catches_sigterm(self) -> bool:
        """Whether the child has a handler for SIGTERM installed (/proc/PID/status SigCgt)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return False
        caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.MULTILINE).group(1), 16)
        return bool(caught >> (signal.SIGTERM - 1) & 1)

    def stop(self, sig: int, timeout: float = TIMEOUT_S) -> int | None:
        """Send ``sig`` and wait for the end; the exit code, or None if it did not end (then killed)."""
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # where it hangs: Python's faulthandler dumps every thread on SIGABRT
            self.process.send_signal(signal.SIGABRT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            code = None
            print(f"{' '.join(self.process.args[:4])} did not end on signal {sig}; its stacks:\n"
                  f"{self.stderr[-6000:]}", file=sys.stderr)  # shown by pytest beside the failed row
        self.process.stdout.close()
        self._err.close()
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self._err.close()


def frames_done(child: Started) -> int:
    """The frame count of a render's progress bar so far."""
    counts = re.findall(r"(\d+)/\d+ frames", child.stderr)
    return int(counts[-1]) if counts else 0


def video_frames(path: Path) -> int:
    """Frames ffmpeg decodes from ``path`` (0 if it cannot: unplayable, no moov atom)."""
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.count_frames_and_secs(str(path))[0]
    except (RuntimeError, OSError):
        return 0


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- 2: interrupted renders and recordings; SIGTERM everywhere ------------------------------
def interrupted_render(sig: int = signal.SIGTERM, folder: Path | None = None) -> tuple[Row, dict]:
    """``visualizer render`` over an earlier good video of the same name, stopped by ``sig``
    once 20 frames are through. Also returns the facts, for the tests."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out = folder / "clip.mp4"
        earlier = b"an earlier good video"
        out.write_bytes(earlier)
        child = Started([sys.executable, "-m", "visualizer", "render", str(DEMO), "--preset", "5meo", "--out",
                         str(out), "--size", "320x180", "--grid", "32"], folder=folder)
        reached = child.wait_until(lambda c: frames_done(c) >= 20)
        code = child.stop(sig)
        said = [line for line in lines(child.stderr) if "interrupted" in line]
        partial = folder / "clip.partial.mp4"
        facts = {"code": code, "said": said, "reached": reached, "untouched": out.read_bytes() == earlier,
                 "partial_frames": video_frames(partial) if partial.exists() else 0,
                 "left": [n for n in leftovers(folder)], "partial_named": str(partial) in (said or [""])[-1]}
    name = signal.Signals(sig).name
    ok = (reached and code == 128 + sig and len(said) == 1 and facts["untouched"] and facts["partial_frames"] >= 1
          and not facts["left"] and facts["partial_named"] and f"({name})" in said[0])
    return Row(f"a render interrupted by {name} over an earlier video of the same name",
               "one line: what was kept as NAME.partial.mp4 (playable); the earlier file untouched",
               f"exit {code}; {said[-1][:110] if said else 'nothing said'!r}; partial plays {facts['partial_frames']} "
               f"frames; earlier file untouched: {facts['untouched']}; temporaries left {facts['left']}",
               ok, "the frames not rendered yet"), facts


def render_sigint() -> Row:
    return interrupted_render(signal.SIGINT)[0]


def render_sigterm() -> Row:
    return interrupted_render(signal.SIGTERM)[0]


RECORDING_SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(message)s")  # as the command line: HUD messages on stderr
from visualizer.system.signals import exit_code, interrupt_in, sigterm_like_sigint
sigterm_like_sigint()
from visualizer.engine.audio.engine import AudioChoice
from visualizer.window.app import App, AppOptions
app = App(AppOptions(preset="5meo", size=(32, 32), headless=True, window=(320, 240), audio=AudioChoice("none")))
app.stage.toggle_recording(app.display.size, app.display.canvas.get_shifts()[:3])
try:
    app.run()  # until the signal (frames reach the recording only from here)
except BaseException as e:  # as visualizer.cli does
    if interrupt_in(e) is None:
        raise
    sys.exit(exit_code(interrupt_in(e)))
"""


def interrupted_recording(folder: Path | None = None) -> tuple[Row, dict]:
    """A live recording (W) running when the window gets SIGTERM: finished and kept as
    ``NAME.partial.mp4``, never under the final name."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = environment(XDG_PICTURES_DIR=str(folder))
        pictures = folder / "visualizer"

        def encoding(c: Started) -> bool:  # ffmpeg has written frames: the app is in its loop
            return any(p.stat().st_size > 8192 for p in pictures.glob(".*.part.mp4")) if pictures.exists() else False
        child = Started([sys.executable, "-c", RECORDING_SCRIPT], env=env, folder=folder)
        ready = child.wait_until(encoding)
        code = child.stop(signal.SIGTERM)
        kept = sorted(pictures.glob("*.mp4")) if pictures.exists() else []
        said = [line for line in lines(child.stderr) if "recording interrupted" in line]
        frames = video_frames(kept[0]) if len(kept) == 1 else 0
        facts = {"code": code, "kept": [p.name for p in kept], "said": said, "frames": frames,
                 "left": leftovers(pictures) if pictures.exists() else []}
        if code != 143 or len(said) != 1:
            facts["stderr"] = child.stderr[-3000:]
    ok = (ready and code == 143 and len(kept) == 1 and kept[0].name.endswith(".partial.mp4") and frames >= 1
          and len(said) == 1 and not facts["left"])
    return Row("SIGTERM while recording live (W)", "the recording finished and kept as NAME.partial.mp4, one line",
               f"exit {code}; files {facts['kept']}, {frames} frames; {said[-1][:80] if said else 'nothing said'!r}; "
               f"temporaries left {facts['left']}"
               + (f" [stderr: {facts['stderr'][-800:]!r}]" if "stderr" in facts else ""),
               ok, "nothing recorded (the file is whole)"), facts


def recording_sigterm() -> Row:
    return interrupted_recording()[0]


def long_wav(path: Path, minutes: float = 20.0, sr: int = 8000) -> Path:
    """Quiet noise, long enough that analysing it outlasts any signal sent at its start."""
    import soundfile

    rng = np.random.default_rng(0)
    soundfile.write(path, (0.05 * rng.standard_normal(int(minutes * 60 * sr))).astype(np.float32), sr,
                    subtype="PCM_16")
    return path


def sigterm_commands() -> tuple[Row, dict]:
    """SIGTERM to trace, analyze, session and the window, each once it handles it."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = long_wav(folder / "long.wav")
        commands = {"trace": ["trace", "none", "--preset", "5meo", "--seconds", "100000", "--size", "32"],
                    "analyze": ["analyze", str(wav)],
                    "session": ["session", "mettannealing-short", "--headless"],
                    "window": ["--headless", "--no-audio", "--size", "32"]}
        running = {"session": "session phase 1/", "window": "preset: "}  # lines that say the work has begun
        for name, args in commands.items():
            child = Started([sys.executable, "-m", "visualizer", *args], folder=folder)
            if name in running:  # signalled mid-run
                ready = child.wait_until(lambda c, line=running[name]: line in c.stderr)
            else:  # signalled as early as it handles SIGTERM: while it is still importing
                ready = child.wait_until(Started.catches_sigterm)
            code = child.stop(signal.SIGTERM)
            said = [line for line in lines(child.stderr) if "interrupted" in line]
            traceback = "Traceback" in child.stderr
            results[name] = {"ready": ready, "code": code, "said": said, "traceback": traceback}
            if code != 143 or traceback or len(said) != 1:
                results[name]["stderr"] = child.stderr[-3000:]
    ok = all(r["ready"] and r["code"] == 143 and len(r["said"]) == 1 and "(SIGTERM)" in r["said"][0]
             and not r["traceback"] for r in results.values())
    return Row("SIGTERM to trace, analyze, session (headless) and the window",
               "each ends like Ctrl-C: one line 'interrupted (SIGTERM)', exit 143, no traceback",
               "; ".join(f"{name}: exit {r['code']}, {r['said'][-1] if r['said'] else 'nothing said'!r}"
                         + (f" [stderr: {r['stderr'][-600:]!r}]" if "stderr" in r else "")
                         for name, r in results.items()), ok, "the unfinished run's output"), results


def sigterm_everywhere() -> Row:
    return sigterm_commands()[0]


def devtool_sigterm() -> tuple[Row, dict]:
    """``python -m devtools.bench_render`` (pygame's display initialised, a long loop of
    frames) stopped by SIGTERM; SDL would have turned it into a quit event nobody reads."""
    with tempfile.TemporaryDirectory() as tmp:
        child = Started([sys.executable, "-m", "devtools.bench_render", "--frames", "100000"], folder=Path(tmp))
        ready = child.wait_until(Started.catches_sigterm)
        code = child.stop(signal.SIGTERM)
        said = [line for line in lines(child.stderr) if "interrupted" in line]
    ok = ready and code == 143 and len(said) == 1
    return Row("SIGTERM to a developer tool that draws with pygame (devtools.bench_render)",
               "it exits (143) with one line", f"exit {code}; {said[-1] if said else 'nothing said'!r}", ok,
               "the unfinished figures"), {"code": code, "said": said}


def devtool_sigterm_row() -> Row:
    return devtool_sigterm()[0]


# -- 3: OSC options ---------------------------------------------------------------------------
def one_line_exit_2(result: subprocess.CompletedProcess, *needles: str) -> bool:
    said = lines(result.stderr)
    return (result.returncode == 2 and len(said) == 1 and said[0].startswith("visualizer: error: ")
            and all(n in said[0] for n in needles) and "Traceback" not in result.stderr)


def osc_port_in_use() -> tuple[Row, dict]:
    """Two instances with ``--osc`` on one port: the second says so (the first runs on; SIGTERM
    then ends it)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = str(probe.getsockname()[1])
    probe.close()
    with tempfile.TemporaryDirectory() as tmp:
        first = Started([sys.executable, "-m", "visualizer", "--headless", "--no-audio", "--size", "32", "--osc",
                         "--osc-port", port], folder=Path(tmp))
        try:
            listening = first.wait_until(lambda c: f"OSC: listening on 127.0.0.1:{port}" in c.stderr)
            second = visualizer("--headless", "--no-audio", "--frames", "2", "--size", "32", "--osc",
                                "--osc-port", port)
            still_running = first.process.poll() is None
        finally:
            code = first.stop(signal.SIGTERM)
    said = lines(second.stderr)
    ok = listening and one_line_exit_2(second, port, "already in use", "--osc-port") and still_running and code == 143
    return Row("two instances with --osc on one port", "the second: one line naming the port and the fix, exit 2; "
               "the first runs on", f"exit {second.returncode}, {said[-1][:110] if said else ''!r}; first still "
               f"running: {still_running}", ok, "nothing (nothing started)"), {"second": second}


OSC_OPTIONS = (
    (("--osc", "--osc-port", "70000"), ("--osc-port 70000", "1..65535")),
    (("--osc", "--osc-host", "10.9.9.9"), ("--osc-host 10.9.9.9", "not an address of this machine", "127.0.0.1")),
    (("--osc-out", "nohost:abc"), ("--osc-out nohost:abc", "HOST:PORT")),
    (("--osc-port", "9001"), ("--osc-port 9001", "add --osc")),
)


def bad_osc_options() -> tuple[Row, dict]:
    """Each bad OSC option value: one line naming it and the fix, exit 2, before any window.
    10.9.9.9 is only bound to (and refused): nothing is ever sent anywhere."""
    results = {" ".join(args): visualizer("--headless", "--no-audio", "--frames", "2", "--size", "32", *args)
               for args, _ in OSC_OPTIONS}
    ok = all(one_line_exit_2(result, *needles) for result, (_, needles) in zip(results.values(), OSC_OPTIONS))
    return Row("bad OSC options: --osc-port 70000, --osc-host 10.9.9.9, --osc-out nohost:abc, --osc-port without --osc",
               "one line naming the option and the fix, exit 2 each",
               "; ".join(f"exit {r.returncode} {(lines(r.stderr) or [''])[-1][19:80]!r}" for r in results.values()),
               ok, "nothing (nothing started)"), results


def osc_in_use_row() -> Row:
    return osc_port_in_use()[0]


def osc_options_row() -> Row:
    return bad_osc_options()[0]


# -- 4: no display ----------------------------------------------------------------------------
def no_display() -> tuple[Row, dict]:
    """No DISPLAY, no WAYLAND_DISPLAY, no SDL_VIDEODRIVER: one line, exit 2 (SDL would fall back
    to its invisible offscreen driver and run forever). SDL_VIDEODRIVER=dummy set on purpose and
    --headless still run."""
    bare = environment(DISPLAY=None, WAYLAND_DISPLAY=None, SDL_VIDEODRIVER=None)
    refused = visualizer("--no-audio", "--frames", "2", "--size", "32", env=bare, timeout=120)
    dummy = visualizer("--no-audio", "--frames", "2", "--size", "32", env=dict(bare, SDL_VIDEODRIVER="dummy"))
    headless = visualizer("--headless", "--no-audio", "--frames", "2", "--size", "32", env=bare)
    said = lines(refused.stderr)
    ok = (one_line_exit_2(refused, "no usable display", "--headless", "xvfb-run") and dummy.returncode == 0
          and headless.returncode == 0)
    return Row("no display (DISPLAY, WAYLAND_DISPLAY, SDL_VIDEODRIVER unset), no --headless",
               "one line: no usable display, run --headless or under xvfb-run; exit 2",
               f"exit {refused.returncode}, {said[-1][:100] if said else ''!r}; SDL_VIDEODRIVER=dummy: exit "
               f"{dummy.returncode}; --headless: exit {headless.returncode}", ok, "nothing (nothing started)"), \
        {"refused": refused, "dummy": dummy, "headless": headless}


def no_display_row() -> Row:
    return no_display()[0]


# -- 6: a broken MIDI binding -----------------------------------------------------------------
def midi_binding_inf() -> tuple[Row, dict]:
    """A bindings file with ``channel = inf`` beside a good binding; the controller on a real
    TCP MIDI port: one warning naming the file, the key and the range; it connects; the good
    binding works."""
    import mido

    from visualizer.engine.audio.features import FeatureSnapshot
    from visualizer.engine.params import spec
    from visualizer.engine.session import Session
    from visualizer.stage.midi import MidiController, bindings_path
    from visualizer.stage.performance import Performance

    session = Session.from_preset("5meo", size=SIZE)
    performance = Performance(session, say=lambda message: None)
    listener = socket.create_server(("127.0.0.1", 0))
    device = f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    session.set_base("k1", 0.0)
    features = FeatureSnapshot(status="faults")
    with tempfile.TemporaryDirectory() as folder:
        path = bindings_path(device, Path(folder))
        path.write_text(f'device = "{device}"\n[[binding]]\nkind = "cc"\nchannel = inf\nnumber = 7\ntarget = "k2"\n'
                        '[[binding]]\nkind = "cc"\nchannel = 0\nnumber = 16\ntarget = "k1"\n')
        with captured_log("visualizer.stage.midi") as records:
            controller = MidiController(performance.queue, device=device, folder=Path(folder))
            listener.settimeout(30)
            try:
                link, _ = listener.accept()
                link.sendall(mido.Message("control_change", control=16, value=127).bin())
                deadline = time.monotonic() + 30
                while session.base.k1 != spec("k1").hi and time.monotonic() < deadline:
                    performance.before_advance(features, DT)
                    session.advance(features, DT)
                    time.sleep(DT)
                # counted before the link closes: a closed link is a lost device, and the controller
                # reconnects to the still-listening port (connections 2 once the machine is slow enough)
                facts = {"connections": controller.connections, "failures": controller._guard.failures,
                         "bindings": sorted(controller.bindings), "applied": session.base.k1 == spec("k1").hi}
                link.close()
            finally:
                controller.close()
                listener.close()
                session.close()
    warnings = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    facts["warnings"] = warnings
    ok = (facts["connections"] == 1 and facts["failures"] == 0 and facts["applied"]
          and facts["bindings"] == [("cc", 0, 16)] and len(warnings) == 1
          and all(s in warnings[0] for s in (str(path), "channel = inf", "0..15")))
    return Row("a MIDI bindings file with channel = inf",
               "one line naming the file, the key and the allowed range; MIDI connects with the other bindings",
               f"{warnings[0][-90:] if warnings else 'no warning'!r}; connections {facts['connections']}, reader "
               f"failures {facts['failures']}; the good binding applied: {facts['applied']}", ok,
               "the broken binding"), facts


def midi_binding_row() -> Row:
    return midi_binding_inf()[0]


# -- 7: a monitor with no sound server --------------------------------------------------------
def monitor_without_server() -> tuple[Row, dict]:
    """``--input monitor`` with no sound server answering (PULSE_SERVER pointing at a socket
    that does not exist): the message says a monitor needs PulseAudio/PipeWire and how to start it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(PULSE_SERVER=f"unix:{tmp}/no-such-socket")
        result = visualizer("--input", "monitor", "--headless", "--frames", "2", "--size", "32", env=env)
    said = lines(result.stderr)
    ok = one_line_exit_2(result, "'monitor'", "PulseAudio or PipeWire", "pulseaudio --start")
    return Row("--input monitor with no sound server running",
               "one line: a monitor needs PulseAudio/PipeWire running, and how to start it; exit 2",
               f"exit {result.returncode}, {said[-1][19:150] if said else ''!r}", ok, "nothing (nothing started)"), \
        {"result": result}


def monitor_row() -> Row:
    return monitor_without_server()[0]


# -- 8: unreadable preset folders, FIFOs ------------------------------------------------------
def unreadable_presets() -> tuple[Row, dict]:
    """``--list-presets`` with the user's preset folder unreadable, then with a FIFO named
    x.toml in it (opening it would block for ever). Root ignores permissions: as root the
    command runs without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv), so it obeys them."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        folder = config / "visualizer" / "presets"
        folder.mkdir(parents=True)
        env = environment(XDG_CONFIG_HOME=str(config))
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search") if os.geteuid() == 0 else ()
        folder.chmod(0)
        try:
            unreadable = visualizer("--list-presets", env=env, prefix=prefix, timeout=120)
        finally:
            folder.chmod(0o755)
        os.mkfifo(folder / "x.toml")
        try:
            fifo = visualizer("--list-presets", env=env, timeout=120)
        except subprocess.TimeoutExpired:
            fifo = subprocess.CompletedProcess([], -1, "", "hung (timeout)")
    warned_folder = [line for line in lines(unreadable.stderr) if str(folder) in line]
    warned_fifo = [line for line in lines(fifo.stderr) if "x.toml" in line]
    ok = (unreadable.returncode == 0 and len(warned_folder) == 1 and "cannot read" in warned_folder[0]
          and "nn-dmt" in unreadable.stdout and fifo.returncode == 0 and len(warned_fifo) == 1
          and "not a regular file" in warned_fifo[0] and "nn-dmt" in fifo.stdout)
    return Row("the user's preset folder unreadable; a FIFO named x.toml in it (--list-presets)",
               "a warning line for each, never opened; the shipped presets still listed",
               f"{(warned_folder or ['no warning'])[0][:90]!r}; {(warned_fifo or ['no warning'])[0][-60:]!r}; "
               f"exits {unreadable.returncode}, {fifo.returncode}", ok, "the user's presets in that folder"), \
        {"unreadable": unreadable, "fifo": fifo, "folder": folder}


def presets_row() -> Row:
    return unreadable_presets()[0]


RELIABILITY_FAULTS = (render_sigint, render_sigterm, recording_sigterm, sigterm_everywhere, devtool_sigterm_row,
                      osc_in_use_row, osc_options_row, no_display_row, midi_binding_row, monitor_row, presets_row)
