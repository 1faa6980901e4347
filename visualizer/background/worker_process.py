"""Work done in a child process that runs only on otherwise idle CPU time: the eigenmodes, the
field's measures.

Both run for milliseconds to seconds of mostly Python-level NumPy. In a thread of the app they
would share the GIL with the frame loop, and a niced thread that holds the GIL while the
scheduler keeps it off the CPU stalls the frame that wants it back (priority inversion): tens of
milliseconds on a 2-core machine (measured with the measures on a nice-19 thread: nn-dmt 256²
worst frame 24–30 ms beside a busy process, 17–21 ms without them). A child process shares nothing
with the frame loop but the cores, and at nice 19 it gets little of them while the frames want
them. (Not SCHED_IDLE: beside busy processes it would never run, and a session would wait for ever.)
``background_niceness`` says how nice (19 unless the environment says otherwise).

``WorkerProcess("package.module:function")`` serves one function; it is started on first use,
shared by every caller in the process, and serves one call at a time. Protocol: pickled
``(args, kwargs)`` on the child's stdin; the answer on its stdout is a pickled
``("ok", result, warnings)`` or ``("error", text, warnings)``, where warnings are the messages
logged at WARNING or above during the call (logged again by the parent). A call still in flight
when its caller gives up runs to its end and is dropped. The parent kills its children when it
exits (``atexit``); a child whose parent died without that (a crash, ``os._exit``) ends when its
stdin closes or its watchdog thread sees the parent gone, which at nice 19 beside busy processes
can take minutes (seen: 190 MB children lingering 6 min under load 20). Its stderr goes to a log
file in the user's cache dir, not to the parent's stderr: a child still finishing after the parent
quit would otherwise hold the parent's stderr open, and whoever reads it (a pipe, ``tee``, a
launcher) would wait for the child (120 s on a loaded machine, where the nice-19 child barely runs).
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

from visualizer.system.paths import user_cache_dir

log = logging.getLogger(__name__)

NICENESS_VARIABLE = "VISUALIZER_BACKGROUND_NICE"


def background_niceness() -> int:
    """The niceness of background work (the child processes, the measures' thread): 19, or the
    environment's ``VISUALIZER_BACKGROUND_NICE`` (0..19; the test suite uses 0, so a busy machine
    cannot starve a computation a test waits for)."""
    text = os.environ.get(NICENESS_VARIABLE, "19")
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 19:
        log.warning("%s=%r: not a niceness from 0 to 19; using 19", NICENESS_VARIABLE, text)
        return 19
    return value


class WorkerProcess:
    """A lazily started child process that runs ``target`` ("package.module:function"), one call at a time."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._closed = False
        atexit.register(self.close)

    def call(self, *args, **kwargs):
        """``target(*args, **kwargs)`` computed by the child (arguments and result pickled).
        Blocks the calling thread (not the GIL) until the answer arrives. A child found dead is
        replaced once; raises RuntimeError when the call fails or the new child dies too."""
        with self._lock:
            for attempt in range(2):
                child = self._running_child()
                try:
                    pickle.dump((args, kwargs), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    child.stdin.flush()
                    status, payload, warnings = pickle.load(child.stdout)
                    break
                except (OSError, EOFError, pickle.UnpicklingError) as e:
                    if self._closed:  # killed at the program's exit: nobody waits for the answer, and
                        threading.Event().wait()  # a message now would only confuse; the daemon thread ends with it
                    child.kill()
                    child.wait()
                    self._child = None
                    if attempt:
                        raise RuntimeError(f"the {self.target} process stopped (exit code {child.returncode}; "
                                           f"its output: {self.log_path})") from e
        for message in warnings:
            log.warning("%s", message)
        if status != "ok":
            raise RuntimeError(payload)
        return payload

    def close(self) -> None:
        """Kill the child (a call in flight is dropped) and start no other; run at the program's exit."""
        self._closed = True
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()

    @property
    def log_path(self) -> Path:
        """Where the child's stderr goes (rewritten by each new child)."""
        return user_cache_dir() / "logs" / f"{self.target.replace(':', '.')}.log"

    def _running_child(self) -> subprocess.Popen:
        if self._closed:
            raise RuntimeError(f"the {self.target} process was closed: the program is ending")
        if self._child is None or self._child.poll() is not None:
            try:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                stderr = open(self.log_path, "wb")
            except OSError:
                stderr = open(os.devnull, "wb")
            with stderr:
                self._child = subprocess.Popen([sys.executable, "-m", __name__, self.target], stdin=subprocess.PIPE,
                                               stdout=subprocess.PIPE, stderr=stderr, close_fds=True)
        return self._child


def _exit_with(parent: int) -> None:
    """End this process as soon as ``parent`` is gone, even mid-computation. (Not
    PR_SET_PDEATHSIG: it fires when the parent *thread* that started us ends.)"""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _serve(target: str) -> None:
    """The child's loop: read a call, answer it, until stdin closes."""
    os.nice(max(background_niceness() - os.nice(0), 0))  # at least that nice (a niced thread's child already is)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    module, name = target.split(":")
    function = getattr(importlib.import_module(module), name)
    collected: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record.getMessage())

    root = logging.getLogger()
    root.handlers[:] = [Collect(logging.WARNING)]
    root.setLevel(logging.WARNING)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            args, kwargs = pickle.load(stdin)
        except EOFError:  # the parent is gone: end now, without the interpreter's shutdown, which a
            os._exit(0)  # nice-19 process beside busy ones can take tens of seconds to get CPU for
        try:
            answer = ("ok", function(*args, **kwargs), collected[:])
        except Exception as e:  # noqa: BLE001 — reported to the parent, which shows it
            answer = ("error", f"{type(e).__name__}: {e}", collected[:])
        collected.clear()
        try:
            pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
        except OSError:  # the parent quit while we computed: nobody is waiting for the answer
            os._exit(0)


if __name__ == "__main__":
    _serve(sys.argv[1])
