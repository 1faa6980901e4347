"""Eigenmodes computed in a child process that runs only on otherwise idle CPU time.

LOBPCG runs for seconds of mostly Python-level NumPy. In a thread of the app it would share the
GIL with the frame loop, and a niced thread that holds the GIL while the scheduler keeps it off the
CPU stalls the frame that wants it back (priority inversion): tens of milliseconds on a 2-core
machine. A child process shares nothing with the frame loop but the cores, and at nice 19 it
gets little of them while the frames want them. (Not SCHED_IDLE: beside busy processes it would
never run, and a session would wait for its modes for ever.)

One child serves the whole process, started on first use; requests are served one at a time.
Protocol: pickled ``(ModesRequest, links, cache folder)`` on the child's stdin; the answer on its stdout is a
pickled ``("ok", Harmonics, warnings)`` or ``("error", text, warnings)``. The child dies with its
parent (a watchdog thread) and when its stdin closes; a request still in flight when a session
closes runs to its end and is dropped.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class ModesProcess:
    """A lazily started child process that computes eigenmodes (``compute``), one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None

    def compute(self, request, links: np.ndarray, *, folder: Path):
        """The modes for ``request`` (a ModesRequest) and small-world targets ``links`` (H·W, L),
        computed by the child, with its disk cache in ``folder``. Blocks the calling thread (not
        the GIL) until the answer arrives. A child found dead is replaced once; raises
        RuntimeError when the computation fails or the new child dies too."""
        with self._lock:
            for attempt in range(2):
                child = self._running_child()
                try:
                    pickle.dump((request, links, folder), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    child.stdin.flush()
                    status, payload, warnings = pickle.load(child.stdout)
                    break
                except (OSError, EOFError, pickle.UnpicklingError) as e:
                    child.kill()
                    child.wait()
                    self._child = None
                    if attempt:
                        raise RuntimeError(f"the eigenmode process stopped (exit code {child.returncode})") from e
        for message in warnings:
            log.warning("%s", message)
        if status != "ok":
            raise RuntimeError(payload)
        return payload

    def _running_child(self) -> subprocess.Popen:
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, close_fds=True)
        return self._child


SHARED = ModesProcess()  # the one child of this process


def _lowest_priority() -> None:
    os.nice(19)


def _exit_with(parent: int) -> None:
    """End this process as soon as ``parent`` is gone, even mid-computation. (Not
    PR_SET_PDEATHSIG: it fires when the parent *thread* that started us ends.)"""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _serve() -> None:
    """The child's loop: read a request, answer it, until stdin closes."""
    _lowest_priority()
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    import visualizer.sim.harmonics as harmonics

    collected: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record.getMessage())

    harmonics.log.addHandler(Collect(logging.WARNING))
    harmonics.log.propagate = False
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            request, links, folder = pickle.load(stdin)
        except EOFError:
            return
        try:
            answer = ("ok", harmonics.compute_modes(request, links, folder=folder), collected[:])
        except Exception as e:  # noqa: BLE001 — reported to the parent, which shows it
            answer = ("error", f"{type(e).__name__}: {e}", collected[:])
        collected.clear()
        try:
            pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
        except OSError:  # the parent quit while we computed: nobody is waiting for the answer
            os._exit(0)


if __name__ == "__main__":
    _serve()
