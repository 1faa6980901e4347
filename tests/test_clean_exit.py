"""Every entry point exits by itself (issue 8): each runs in a fresh interpreter with a timeout.

The hang this guards against: a background eigenmode computation still inside a multi-threaded
OpenBLAS call when the interpreter exits left OpenBLAS's destructor joining a server thread that
never woke. Each case below starts that computation (an empty harmonics cache) and exits at once.
"""

import os
import subprocess
import sys
import textwrap

import pytest

TIMEOUT_S = 240  # generous for a loaded 2-core machine; a hang never ends


def run(args, tmp_path, **kwargs):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), SDL_VIDEODRIVER="dummy",
               PYGAME_HIDE_SUPPORT_PROMPT="1")
    env.pop("OPENBLAS_NUM_THREADS", None)  # as on a fresh machine
    try:
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(map(str, args))} did not exit within {TIMEOUT_S} s")


def test_the_cli_exits(tmp_path):
    done = run([sys.executable, "-m", "visualizer", "--headless", "--frames", "5", "--no-audio", "--size", "48"], tmp_path)
    assert done.returncode == 0, done.stderr


USER_SCRIPT = textwrap.dedent("""
    import numpy as np  # a user's script may load NumPy (and OpenBLAS) before us
    np.linalg.eigh(np.eye(64) + 0.01)  # and start OpenBLAS's threads
    from visualizer.engine.session import Session
    from visualizer.engine.audio.features import FeatureSnapshot
    session = Session.from_preset("nn-dmt", size=(64, 64))
    for _ in range(3):
        session.advance(FeatureSnapshot(), 1 / 60)
    print("ok", session.eigenmodes_busy)
""")


def test_a_user_script_that_imported_numpy_first_exits(tmp_path):
    done = run([sys.executable, "-c", USER_SCRIPT], tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr


def test_a_tool_module_exits(tmp_path):
    done = run([sys.executable, "-m", "devtools.plot", "--preset", "nn-dmt", "--seconds", "0.5",
                "--size", "48", "--out", str(tmp_path / "plot.png")], tmp_path)
    assert done.returncode == 0, done.stderr


def test_pytest_itself_exits(tmp_path):
    test = tmp_path / "test_inner.py"
    test.write_text("from visualizer.engine.session import Session\n"
                    "def test_session():\n"
                    "    from visualizer.engine.audio.features import FeatureSnapshot\n"
                    "    Session.from_preset('5meo', size=(64, 64)).advance(FeatureSnapshot(), 0.1)\n")
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], tmp_path, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


BUSY_CHILD_SCRIPT = textwrap.dedent("""
    import sys, threading, time
    from visualizer.background.worker_process import WorkerProcess
    worker = WorkerProcess("builtins:sum")  # sum(range(...)) holds the child's GIL: its watchdog cannot run
    threading.Thread(target=worker.call, args=(range(10**10),), daemon=True).start()
    while worker._child is None:
        time.sleep(0.01)
    open(sys.argv[1], "w").write(str(worker._child.pid))
    time.sleep(1.0)
""")


def test_a_worker_child_still_busy_when_the_program_ends_does_not_hold_its_output_open(tmp_path):
    """The program's output ends when the program does: a worker child (eigenmodes, measures)
    still computing must not hold the program's stderr open, or whoever reads it — a pipe, a
    launcher, this test — waits for the child (the CLI test timed out so on a loaded machine)."""
    import signal

    pid_file = tmp_path / "child.pid"
    try:
        done = run([sys.executable, "-c", BUSY_CHILD_SCRIPT, str(pid_file)], tmp_path)
        assert done.returncode == 0, done.stderr
    finally:
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def test_a_worker_child_still_busy_when_the_program_ends_is_killed_with_it(tmp_path):
    """A busy nice-19 child (its GIL held, so its watchdog cannot see the parent gone) once
    outlived the program by minutes on a loaded machine, 190 MB each; the program kills it on exit."""
    pid_file = tmp_path / "child.pid"
    done = run([sys.executable, "-c", BUSY_CHILD_SCRIPT, str(pid_file)], tmp_path)
    assert done.returncode == 0, done.stderr
    pid = int(pid_file.read_text())
    try:
        status = open(f"/proc/{pid}/status").read()
    except FileNotFoundError:
        return  # gone
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    os.kill(pid, 9)
    pytest.fail(f"the worker child {pid} outlived the program ({state})")
