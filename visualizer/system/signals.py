"""SIGTERM handled like SIGINT (Ctrl-C): both raise a ``KeyboardInterrupt`` in the main thread,
so every command cleans up the same way (a render keeps what it has as ``NAME.partial.mp4``, a
window closes its devices, child processes are stopped).

Installed before pygame initialises SDL: SDL takes SIGTERM only while its handler is still the
default one, and would otherwise turn it into a quit event that a tool without an event loop
never reads.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled wherever a KeyboardInterrupt is."""


_received: KeyboardInterrupt | None = None  # the last interrupt raised by our handlers


def _terminated(signum, frame) -> None:
    global _received
    _received = Terminated()
    raise _received


def _interrupted(signum, frame) -> None:
    global _received
    _received = KeyboardInterrupt()
    raise _received


def _redeliver_swallowed(unraisable) -> None:
    """``sys.unraisablehook``: an interrupt our handlers raised inside a callback whose exceptions
    C code ignores (a ctypes callback: numba's compiler notifies llvmlite's object cache through
    one) would be lost and the command would run on; the same signal is sent again 0.1 s later,
    by when the main thread has left the callback. Anything else goes to the previous hook."""
    if unraisable.exc_value is not None and unraisable.exc_value is _received:
        signum = signal.SIGTERM if isinstance(_received, Terminated) else signal.SIGINT
        again = threading.Timer(0.1, os.kill, (os.getpid(), signum))
        again.daemon = True
        again.start()
        return
    _previous_unraisablehook(unraisable)


_previous_unraisablehook = sys.unraisablehook


def sigterm_like_sigint() -> None:
    """From now on SIGTERM raises ``Terminated`` (a KeyboardInterrupt) in the main thread, as
    SIGINT raises KeyboardInterrupt (one swallowed by a C callback is delivered again). Does nothing off the main thread (only it can set signal
    handlers), nor where SIGTERM is ignored on purpose (``nohup``-style parents)."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        return
    _received = None  # a new command: earlier interrupts (a test's, in one process) are over
    sys.unraisablehook = _redeliver_swallowed
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, _terminated)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # Python's own (not ignored): remembered too
        signal.signal(signal.SIGINT, _interrupted)


def interrupt_in(error: BaseException | None) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt (Ctrl-C, or SIGTERM's ``Terminated``) behind ``error``: ``error``
    itself, or one a C extension turned into another exception. numba's dispatcher does: a signal
    handled while a jitted function runs surfaces as "SystemError: CPUDispatcher(…) returned a
    result with an exception set", the interrupt as its context. Failing that, the interrupt our
    handlers last raised (C code that swallowed it); None if there was none."""
    for _ in range(8):
        if error is None:
            break
        if isinstance(error, KeyboardInterrupt):
            return error
        error = error.__cause__ or error.__context__
    # some C code swallows it and raises its own error (numpy's import: "PyCapsule_Import could
    # not import module 'datetime'"): an interrupt our handlers raised still counts
    return _received


def which(error: BaseException) -> str:
    """"SIGTERM" or "SIGINT": what a KeyboardInterrupt came from."""
    return "SIGTERM" if isinstance(error, Terminated) else "SIGINT"


def exit_code(error: BaseException) -> int:
    """The shell's status for a run ended by this interrupt: 143 for SIGTERM, 130 for SIGINT."""
    return EXIT_TERMINATED if isinstance(error, Terminated) else EXIT_INTERRUPTED


def until_interrupted(run: Callable[[], int | None], prog: str, *, ended: str = "", exit_now: bool = False) -> int:
    """``run()`` with SIGTERM handled like SIGINT; its exit code, 0 for None. An interrupt ends it
    with one line on stderr, ``PROG: interrupted (SIGINT|SIGTERM)`` then ``; ENDED`` if given, and
    exit code 130 (SIGINT) / 143 (SIGTERM). exit_now : leave the process at once after that line
    (the developer tools: the tool's own clean-up ran while the interrupt unwound, and the
    interpreter's shutdown would wait for any thread a library left running mid-way)."""
    sigterm_like_sigint()
    try:
        return run() or 0
    except BaseException as caught:  # an interrupt, or one a C extension wrapped (numba, an import)
        if (e := interrupt_in(caught)) is None:
            raise
        print(f"{prog}: interrupted ({which(e)})" + (f"; {ended}" if ended else ""), file=sys.stderr)
        if exit_now:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exit_code(e))
        return exit_code(e)
