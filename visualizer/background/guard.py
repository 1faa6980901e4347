"""Background threads that cannot die silently.

Every background job (audio analysis, eigenmode computation, recording, OSC/MIDI servers) runs
inside a :class:`GuardedThread`. An exception inside the job is logged once with its traceback,
turned into a status string the front end reads without waiting (``"audio analysis failed:
ValueError: …"``), and the job is restarted after a back-off — or, with ``restart=False``, the
thread ends and the status stays, so the owner can degrade (an ``on_failure`` callback lets it
drop half-done work). The thread is daemonic, so it never keeps the process alive, and joinable:
``close(timeout_s)`` sets the stop event the job watches and joins it.

    guard = GuardedThread("audio analysis", lambda stop: work_until(stop))
    ...
    hud_line = guard.status        # "" while healthy
    guard.close(timeout_s=2.0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5  # first restart delay; doubles with each failure in a row
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 30.0  # a run this long resets the back-off; a failure this old leaves the status


class GuardedThread:
    """Runs ``target(stop_event)`` on a daemon thread; failures are logged once, shown, restarted.

    Parameters
    ----------
    name : what the job is, for the log and the status ("audio analysis" → "audio analysis
        failed: …"); the thread is named after it.
    target : the job. It should return soon after ``stop_event`` is set; returning normally ends
        the thread with an empty status.
    restart : restart the job after a failure (back-off from ``BACKOFF_FIRST_S``, doubling up to
        ``BACKOFF_MAX_S``); if False the thread ends and the status stays.
    on_failure : called on the guarded thread with the exception, before any restart (the owner
        publishes its own status or drops half-done work there); its own exceptions are logged.
    start : start the thread now.

    Attributes
    ----------
    failures : exceptions caught so far.
    last_error : the latest one as "Type: message" ("" if none).
    """

    def __init__(self, name: str, target: Callable[[threading.Event], None], *, restart: bool = True,
                 on_failure: Callable[[BaseException], None] | None = None, start: bool = True):
        self.name = name
        self.restart = restart
        self.failures = 0
        self.last_error = ""
        self.stop_event = threading.Event()
        self._target = target
        self._on_failure = on_failure
        self._failed_at = -float("inf")  # monotonic time of the latest failure
        self._logged: set[str] = set()  # errors already logged with a traceback
        self._thread = threading.Thread(target=self._loop, name=name.replace(" ", "-"), daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def status(self) -> str:
        """"" while healthy; "NAME failed: Type: message" after a failure (with how it goes on),
        until a restarted job has run ``HEALTHY_AFTER_S`` without failing again."""
        if not self.last_error:
            return ""
        if self.restart:
            if time.monotonic() - self._failed_at > HEALTHY_AFTER_S and self.alive:
                return ""
            return f"{self.name} failed: {self.last_error} (restarted, {self.failures}×)"
        return f"{self.name} failed: {self.last_error}"

    def close(self, timeout_s: float = 2.0) -> bool:
        """Ask the job to stop and wait up to ``timeout_s``; True if the thread has ended."""
        self.stop_event.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("%s did not stop within %.1f s (left to end with the process)", self.name, timeout_s)
            return False
        return True

    def _loop(self) -> None:
        in_a_row = 0
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                self._target(self.stop_event)
                return
            except Exception as error:  # noqa: BLE001 - the point of the guard
                in_a_row = 1 if time.monotonic() - started > HEALTHY_AFTER_S else in_a_row + 1
                self._record(error)
            if not self.restart:
                return
            self.stop_event.wait(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (in_a_row - 1)))

    def _record(self, error: Exception) -> None:
        self.failures += 1
        self._failed_at = time.monotonic()
        self.last_error = f"{type(error).__name__}: {error}"
        if self.last_error not in self._logged:  # once with its traceback; repeats are counted
            if len(self._logged) >= 64:  # errors that carry changing numbers must not grow it forever
                self._logged.clear()
            self._logged.add(self.last_error)
            log.error("%s failed%s", self.name, "; restarting" if self.restart else "", exc_info=error)
        if self._on_failure is not None:
            try:
                self._on_failure(error)
            except Exception:
                log.exception("%s: the failure handler failed too", self.name)
