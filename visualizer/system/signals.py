"""SIGTERM handled like SIGINT (Ctrl-C): both raise a ``KeyboardInterrupt`` in the main thread,
so every command cleans up the same way (a render keeps what it has as ``NAME.partial.mp4``, a
window closes its devices, child processes are stopped).

Installed before pygame initialises SDL: SDL takes SIGTERM only while its handler is still the
default one, and would otherwise turn it into a quit event that a tool without an event loop
never reads.

A frame loop runs each frame inside ``interrupts_deferred()``: an interrupt arriving mid-frame is
raised when the frame ends. Raised anywhere, it can land between a lock's acquire and the
``with`` that would release it (``queue.Queue``'s ``Condition.__enter__`` is Python code), and the
lock stays held: a recording's writer thread then waited for ever on its queue and the window
never exited (issue 30).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled wherever a KeyboardInterrupt is."""


AGAIN_S = 0.1  # a signal put off (inside LLVM) or swallowed (by a C callback) is sent again this much later (s)
DEFER_LIMIT_S = 2.0  # an interrupt waits at most this long for an ``interrupts_deferred`` block (a stuck frame)

_received: KeyboardInterrupt | None = None  # the last interrupt raised by our handlers

# interrupts_deferred() on the main thread: every name below is read and written by the main thread
# only (the handlers run there), except that the deadline timer reads _delivered and sets _forced
_deferring = 0  # depth of the blocks the main thread is inside
_waiting: int | None = None  # the signal that arrived inside one, raised when the outermost ends
_episode = 0  # counts the signals that waited; the deadline's re-send names the one it is for
_delivered = 0  # the last waiting episode whose interrupt was raised
_forced = 0  # the episode whose deadline re-sent its signal (0: none)


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


def _interrupt_for(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _deadline(episode: int, signum: int) -> None:
    """Timer thread, ``DEFER_LIMIT_S`` after a signal began waiting: if it still waits (the block
    is stuck), send it again; the handler then raises it at once."""
    global _forced
    if _delivered < episode:
        _forced = episode
        os.kill(os.getpid(), signum)


def _raise(signum: int, frame) -> None:
    """Raise the interrupt for ``signum`` in the main thread, unless
    - it is inside llvmlite: then the signal is sent again ``AGAIN_S`` later. Raised in LLVM's
      object-cache callback, which hands numba a cached kernel, the interrupt is swallowed by
      ctypes, LLVM builds an empty module instead and numba writes to address 0 (SIGSEGV: a
      session signalled while its first frame loads kernels);
    - it is inside an ``interrupts_deferred`` block: then it waits for the block's end (a second
      signal, or ``DEFER_LIMIT_S``, raises it at once);
    - it is the deadline's re-send of an interrupt raised already (the block ended meanwhile)."""
    global _received, _waiting, _episode, _delivered, _forced
    if _inside_llvm(frame):
        _send_again(signum)
        return
    if _forced and _forced <= _delivered:
        _forced = 0
        return
    if _deferring and _waiting is None:
        _waiting, _episode = signum, _episode + 1
        deadline = threading.Timer(DEFER_LIMIT_S, _deadline, (_episode, signum))
        deadline.daemon = True
        deadline.start()
        return
    if _waiting is not None:  # raised now instead of at the block's end
        _waiting, _delivered = None, _episode
    _forced = 0
    _received = _interrupt_for(signum)
    raise _received


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C or SIGTERM arriving inside the block is raised when the (outermost) block ends, so
    the block never stops half-way through with a lock held; a second signal, or the first after
    ``DEFER_LIMIT_S``, is raised at once (a stuck block never makes the process unstoppable).
    Off the main thread (which never gets interrupts) it does nothing."""
    global _deferring, _waiting, _delivered, _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if _deferring == 0 and _waiting is not None:
            signum, _waiting, _delivered = _waiting, None, _episode
            _received = _interrupt_for(signum)
            raise _received


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
    global _received, _waiting, _forced
    if threading.current_thread() is not threading.main_thread():
        return
    _received = _waiting = None  # a new command: earlier interrupts (a test's, in one process) are over
    _forced = 0
    sys.unraisablehook = _redeliver_swallowed
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, _raise)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # Python's own (not ignored): remembered too
        signal.signal(signal.SIGINT, _raise)


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
