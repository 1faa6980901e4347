"""Issue 30, "Reliability, round two": each fault for real, in a subprocess where the program's
own process is what fails (real signals, real UDP on 127.0.0.1, real files, permissions and
FIFOs). The scenarios live in ``devtools.faults_reliability`` (the fault table runs them as rows);
these tests assert the details. Every subprocess has a timeout; nothing here is timed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from devtools import faults_reliability as fr
from visualizer.background.video_writer import VideoError, VideoWriter, partial_path
from visualizer.system import signals


# -- 2: renders and recordings are written under a temporary name; interrupts keep a partial --
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_render_keeps_a_playable_partial_and_never_touches_the_earlier_file(sig):
    _row, facts = fr.interrupted_render(sig)
    assert facts["reached"], "the render never got going"
    assert facts["code"] == 128 + sig
    assert len(facts["said"]) == 1, facts["said"]
    line = facts["said"][0]
    assert line.startswith(f"visualizer render: interrupted ({signal.Signals(sig).name}); kept the first ")
    assert "clip.partial.mp4" in line and "clip.mp4 untouched" in line
    assert facts["untouched"], "the earlier clip.mp4 was changed"
    assert facts["partial_frames"] >= 1, "the partial file does not play (no moov atom?)"
    assert facts["left"] == [], "temporary files were left behind"


def test_a_finished_video_appears_only_under_its_name_and_a_failed_one_leaves_the_old_file(tmp_path):
    out = tmp_path / "clip.mp4"
    with VideoWriter(out, size=(32, 16), fps=30) as writer:
        for _ in range(3):
            writer.write(np.zeros((16, 32), np.uint32))
        assert not out.exists(), "written under the final name before it was complete"
    assert fr.video_frames(out) == 3
    assert fr.leftovers(tmp_path) == []

    before = out.read_bytes()
    with pytest.raises(RuntimeError):
        with VideoWriter(out, size=(32, 16), fps=30) as writer:
            writer.write(np.zeros((16, 32), np.uint32))
            raise RuntimeError("a failure mid-render")
    assert out.read_bytes() == before
    assert fr.leftovers(tmp_path) == [] and not partial_path(out).exists()


def test_an_interrupt_before_any_frame_keeps_nothing(tmp_path):
    out = tmp_path / "clip.mp4"
    with pytest.raises(KeyboardInterrupt) as caught:
        with VideoWriter(out, size=(32, 16), fps=30):
            raise KeyboardInterrupt
    assert caught.value.partial is None
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_video_ffmpeg_refuses_leaves_no_temporary(tmp_path):
    with pytest.raises(VideoError):
        with VideoWriter(tmp_path / "missing-folder" / "clip.mp4", size=(32, 16), fps=30) as writer:
            writer.write(np.zeros((16, 32), np.uint32))
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_recording_live_keeps_the_recording_as_partial():
    _row, facts = fr.interrupted_recording()
    assert facts["code"] == 143
    assert len(facts["kept"]) == 1 and facts["kept"][0].endswith(".partial.mp4"), facts["kept"]
    assert facts["frames"] >= 1
    assert len(facts["said"]) == 1 and facts["said"][0].startswith("recording interrupted: kept ")
    assert facts["left"] == []


def test_sigterm_ends_trace_analyze_session_and_the_window_like_ctrl_c():
    _row, results = fr.sigterm_commands()
    for name, r in results.items():
        assert r["ready"], f"{name} never started"
        assert r["code"] == 143, (name, r)
        assert len(r["said"]) == 1 and "interrupted (SIGTERM)" in r["said"][0], (name, r)
        assert not r["traceback"], name


def test_a_developer_tool_that_draws_with_pygame_exits_on_sigterm():
    _row, facts = fr.devtool_sigterm()
    assert facts["code"] == 143, "it ignored SIGTERM (SDL's quit event nobody reads)"
    assert facts["said"] == ["python -m devtools.bench_render: interrupted (SIGTERM)"]


SWALLOWED = """
import ctypes, os, signal, sys, time
from visualizer.system.signals import until_interrupted

def notified():  # a signal handled in here raises inside a ctypes callback: C prints it and goes on
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(100000):
        pass

def run():
    ctypes.CFUNCTYPE(None)(notified)()
    print("callback returned", file=sys.stderr, flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the long loop a lost SIGTERM would leave running
        sum(range(1000))
    return 0

sys.exit(until_interrupted(run, "tool"))
"""


def test_sigterm_handled_inside_a_c_callback_that_swallows_it_still_ends_the_command():
    # numba's compiler calls back into Python through ctypes: a SIGTERM arriving there was lost
    result = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True, timeout=120,
                            cwd=fr.ROOT, check=False)
    assert "callback returned" in result.stderr, result.stderr  # it really was swallowed in the callback
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip().endswith("tool: interrupted (SIGTERM)")


CACHED_KERNEL = """
import os, signal, sys, time
import numba
from numba.core import codegen
from visualizer.system.signals import until_interrupted

if sys.argv[1] == "interrupt":  # patched before numba makes its codegen, which binds the hook
    loading = codegen.JITCodeLibrary._object_getbuffer_hook.__func__

    def hook(cls, ll_module):  # LLVM asks for a cached kernel's object code through a ctypes callback
        buf = loading(cls, ll_module)
        if buf:
            os.kill(os.getpid(), signal.SIGTERM)  # handled right after this call: inside the callback
            print(f"LLVM gets {len(buf)} bytes of object code", file=sys.stderr, flush=True)
        return buf
    codegen.JITCodeLibrary._object_getbuffer_hook = classmethod(hook)


@numba.njit(cache=True)
def twice(x):
    return 2.0 * x


def run():
    twice(1.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the long loop a lost SIGTERM would leave running
        sum(range(1000))
    return 0


sys.exit(until_interrupted(run, "tool") if sys.argv[1] == "interrupt" else print(twice(1.5)))
"""


def test_sigterm_while_llvm_loads_a_cached_kernel_is_put_off_until_it_is_loaded(tmp_path):
    # raised in LLVM's object-cache callback, the interrupt was swallowed, LLVM built an empty module
    # and numba wrote the kernel's environment to address 0: SIGSEGV (exit -11) instead of 143
    script = tmp_path / "cached_kernel.py"
    script.write_text(CACHED_KERNEL)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(fr.ROOT))
    warm = subprocess.run([sys.executable, str(script), "warm"], capture_output=True, text=True, timeout=120,
                          env=env, check=False)
    assert warm.returncode == 0 and warm.stdout.strip() == "3.0", warm.stderr
    result = subprocess.run([sys.executable, "-X", "faulthandler", str(script), "interrupt"], capture_output=True,
                            text=True, timeout=120, env=env, check=False)
    assert "bytes of object code" in result.stderr, result.stderr  # the kernel came from the cache, signalled there
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip().endswith("tool: interrupted (SIGTERM)"), result.stderr



DEFERRED = """
import json, os, signal, sys, threading, time
from visualizer.system import signals

signals.sigterm_like_sigint()
lock = threading.Lock()


class Held:  # as queue.Queue's Condition: a lock taken in Python code before the with-block starts
    def __enter__(self):
        lock.acquire()
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))  # the handler runs at the next bytecode: after the acquire, before the block
        return self

    def __exit__(self, *exc):
        lock.release()


def spin(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sum(range(1000))


facts = {}
try:  # the hazard itself, outside a deferred block: the interrupt leaves the lock held
    with Held():
        pass
except signals.Terminated:
    facts["bare_lock_held"] = lock.locked()
if lock.locked():
    lock.release()

ran = []
try:
    with signals.interrupts_deferred():
        with Held():
            ran.append("block")
        ran.append("after")
except signals.Terminated:
    facts["deferred"] = {"ran": ran, "lock_held": lock.locked()}

steps = []
try:
    with signals.interrupts_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        spin(0.2)
        steps.append("first waited")
        os.kill(os.getpid(), signal.SIGTERM)
        spin(0.2)
        steps.append("second waited")
except signals.Terminated:
    facts["second"] = steps

start = time.monotonic()
try:
    with signals.interrupts_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        spin(60.0)
    facts["stuck"] = "never raised"
except signals.Terminated:
    facts["stuck"] = time.monotonic() - start

signals._forced = signals._delivered  # the deadline's re-send racing a block that ended meanwhile
os.kill(os.getpid(), signal.SIGTERM)
spin(0.2)
facts["late_resend_ignored"] = True
print(json.dumps(facts))
"""


def test_an_interrupt_inside_a_frame_waits_for_its_end_so_no_lock_stays_held():
    # SIGTERM while recording live hung the window: raised inside queue.Queue's Condition.__enter__
    # after the lock was taken, it left the frame queue's lock held and the writer thread waited for ever
    result = subprocess.run([sys.executable, "-c", DEFERRED], capture_output=True, text=True, timeout=120,
                            cwd=fr.ROOT, check=False)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["bare_lock_held"] is True  # the hazard is real without the deferral
    assert facts["deferred"] == {"ran": ["block", "after"], "lock_held": False}
    assert facts["second"] == ["first waited"]  # a second signal is raised at once
    assert isinstance(facts["stuck"], float) and facts["stuck"] >= signals.DEFER_LIMIT_S - 0.05
    assert facts["late_resend_ignored"] is True

# -- 3: OSC options ---------------------------------------------------------------------------
def test_a_second_instance_on_the_same_osc_port_says_so_in_one_line():
    row, facts = fr.osc_port_in_use()
    second = facts["second"]
    assert second.returncode == 2
    said = fr.lines(second.stderr)
    assert len(said) == 1 and "already in use" in said[0] and "--osc-port" in said[0], said
    assert row.passed, row.happened


@pytest.mark.parametrize("args, needles", fr.OSC_OPTIONS,
                         ids=lambda v: " ".join(v) if v and v[0].startswith("--") else "")
def test_a_bad_osc_option_is_one_line_naming_it_and_the_fix(args, needles):
    result = fr.visualizer("--headless", "--no-audio", "--frames", "2", "--size", "32", *args)
    assert result.returncode == 2, result.stderr
    said = fr.lines(result.stderr)
    assert len(said) == 1, said
    assert all(n in said[0] for n in needles), said[0]
    assert "Traceback" not in result.stderr


# -- 4: no display ----------------------------------------------------------------------------
def test_no_display_is_one_line_and_dummy_or_headless_still_run():
    _row, facts = fr.no_display()
    refused = facts["refused"]
    assert refused.returncode == 2
    said = fr.lines(refused.stderr)
    assert len(said) == 1 and "no usable display" in said[0] and "--headless" in said[0] and "xvfb-run" in said[0]
    assert facts["dummy"].returncode == 0, facts["dummy"].stderr
    assert facts["headless"].returncode == 0, facts["headless"].stderr


# -- 6: a broken MIDI binding -----------------------------------------------------------------
def test_a_binding_with_channel_inf_is_one_warning_and_midi_connects_with_the_rest():
    _row, facts = fr.midi_binding_inf()
    assert facts["connections"] == 1 and facts["failures"] == 0
    assert facts["bindings"] == [("cc", 0, 16)]
    assert facts["applied"]
    assert len(facts["warnings"]) == 1
    assert "channel = inf: expected an integer in 0..15" in facts["warnings"][0]
    assert ".toml: binding 1:" in facts["warnings"][0]


# -- 7: a monitor with no sound server --------------------------------------------------------
def test_a_monitor_without_a_sound_server_says_how_to_start_one():
    _row, facts = fr.monitor_without_server()
    result = facts["result"]
    assert result.returncode == 2
    said = fr.lines(result.stderr)
    assert len(said) == 1 and "PulseAudio or PipeWire" in said[0] and "pulseaudio --start" in said[0], said


# -- 8: preset folders ------------------------------------------------------------------------
def test_an_unreadable_preset_folder_and_a_fifo_are_warned_about_and_skipped():
    _row, facts = fr.unreadable_presets()
    unreadable, fifo = facts["unreadable"], facts["fifo"]
    assert unreadable.returncode == 0 and fifo.returncode == 0, "--list-presets failed or hung on the FIFO"
    assert [line for line in fr.lines(unreadable.stderr) if "cannot read the folder" in line]
    assert [line for line in fr.lines(fifo.stderr) if "x.toml: not a regular file" in line]
    assert "nn-dmt" in unreadable.stdout and "nn-dmt" in fifo.stdout
