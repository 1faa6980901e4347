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


AGAIN_S = 0.1  # a signal put off (inside LLVM) or swallowed (by a C callback) is sent again this much later (s)

_received: KeyboardInterrupt | None = None  # the last interrupt raised by our handlers


def _send_again(signum: int) -> None:
    """Send ``signum`` to this process again in ``AGAIN_S`` (from a daemon timer thread)."""
    again = threading.Timer(AGAIN_S, os.kill, (os.getpid(), signum))
    again.daemon = True
    again.start()


def _inside_llvm(frame) -> bool:
    """Whether ``frame`` or one of its callers is llvmlite's binding code: a call into LLVM, or
    LLVM calling back into Python through ctypes (the frames of a callback chain on to the
    Python code that called into C)."""
    llvmlite = sys.modules.get("llvmlite")
    if llvmlite is None:
        return False
    folder = os.path.dirname(llvmlite.__file__) + os.sep
    while frame is not None:
        if frame.f_code.co_filename.startswith(folder):
            return True
        frame = frame.f_back
    return False


def _raise(interrupt: KeyboardInterrupt, signum: int, frame) -> None:
    """Raise ``interrupt`` in the main thread, unless it is inside llvmlite: then the signal is
    sent again ``AGAIN_S`` later. Raised in LLVM's object-cache callback, which hands numba a
    cached kernel, the interrupt is swallowed by ctypes, LLVM builds an empty module instead and
    numba writes to address 0 (SIGSEGV: a session signalled while its first frame loads kernels)."""
    global _received
    if _inside_llvm(frame):
        _send_again(signum)
        return
    _received = interrupt
    raise interrupt


def _terminated(signum, frame) -> None:
    _raise(Terminated(), signum, frame)


def _interrupted(signum, frame) -> None:
    _raise(KeyboardInterrupt(), signum, frame)


def _redeliver_swallowed(unraisable) -> None:
    """``sys.unraisablehook``: an interrupt our handlers raised inside a callback whose exceptions
    C code ignores (a ctypes callback, a ``__del__`` run by the garbage collector) would be lost
    and the command would run on; the same signal is sent again ``AGAIN_S`` later, by when the
    main thread has left the callback. Anything else goes to the previous hook."""
    if unraisable.exc_value is not None and unraisable.exc_value is _received:
        _send_again(signal.SIGTERM if isinstance(_received, Terminated) else signal.SIGINT)
        return
    _previous_unraisablehook(unraisable)


_previous_unraisablehook = sys.unraisablehook


def sigterm_like_sigint() -> None:
    """From now on SIGTERM raises ``Terminated`` (a KeyboardInterrupt) in the main thread, as
    SIGINT raises KeyboardInterrupt (put off while inside LLVM; one swallowed by a C callback is
    delivered again). Does nothing off the main thread (only it can set signal handlers), nor
    where SIGTERM is ignored on purpose (``nohup``-style parents)."""
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
