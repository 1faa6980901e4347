"""GuardedThread: a failing background job is logged once, shown, restarted; close() joins it."""

import logging
import threading

from visualizer.background import guard
from visualizer.background.guard import GuardedThread


def test_a_failure_is_logged_once_shown_in_the_status_and_the_job_restarts(caplog, monkeypatch):
    monkeypatch.setattr(guard, "BACKOFF_FIRST_S", 0.01)
    runs = []
    recovered = threading.Event()
    failures_seen = []

    def job(stop):
        runs.append(1)
        if len(runs) <= 3:
            raise ZeroDivisionError("division by zero in hop 7")
        recovered.set()
        stop.wait()

    with caplog.at_level(logging.ERROR, logger="visualizer.background.guard"):
        g = GuardedThread("audio analysis", job, on_failure=failures_seen.append)
        assert recovered.wait(10)
        status = g.status
        assert g.close(timeout_s=5)
    assert len(runs) == 4 and g.failures == 3 and len(failures_seen) == 3
    assert status == "audio analysis failed: ZeroDivisionError: division by zero in hop 7 (restarted, 3×)"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info[0] is ZeroDivisionError  # once, with its traceback
    assert not g.alive


def test_the_status_clears_once_the_restarted_job_has_stayed_healthy(monkeypatch):
    monkeypatch.setattr(guard, "BACKOFF_FIRST_S", 0.01)
    running_again = threading.Event()
    calls = []

    def job(stop):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("device went away")
        running_again.set()
        stop.wait()

    g = GuardedThread("recording", job)
    try:
        assert running_again.wait(10)
        assert g.status.startswith("recording failed: RuntimeError: device went away")  # healthy < 30 s
        monkeypatch.setattr(guard, "HEALTHY_AFTER_S", 0.05)  # no upper bound on timing: only "at least"
        threading.Event().wait(0.1)
        assert g.status == ""
    finally:
        assert g.close(timeout_s=5)


def test_without_restart_the_thread_ends_and_the_failure_stays_visible(monkeypatch):
    monkeypatch.setattr(guard, "HEALTHY_AFTER_S", 0.0)
    dropped = []

    def job(stop):
        raise MemoryError("eigensolver ran out of memory")

    g = GuardedThread("harmonics", job, restart=False, on_failure=lambda e: dropped.append(type(e)))
    assert g.close(timeout_s=5)
    assert dropped == [MemoryError] and g.failures == 1
    assert g.status == "harmonics failed: MemoryError: eigensolver ran out of memory"


def test_close_stops_a_job_that_watches_the_stop_event_and_the_thread_is_daemonic():
    started = threading.Event()

    def job(stop):
        started.set()
        while not stop.wait(0.01):
            pass

    g = GuardedThread("osc server", job)
    assert started.wait(10) and g._thread.daemon
    assert g.close(timeout_s=5) and not g.alive and g.status == "" and g.failures == 0


def test_close_gives_up_after_its_timeout_on_a_job_that_ignores_the_stop_event():
    release = threading.Event()
    g = GuardedThread("stubborn", lambda stop: release.wait(30))
    try:
        assert g.close(timeout_s=0.05) is False and g.alive
    finally:
        release.set()
        assert g.close(timeout_s=5)


def test_a_failing_failure_handler_is_logged_and_the_job_still_restarts(caplog, monkeypatch):
    monkeypatch.setattr(guard, "BACKOFF_FIRST_S", 0.01)
    calls = []
    again = threading.Event()

    def job(stop):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("bad block")
        again.set()
        stop.wait()

    def handler(error):
        raise KeyError("handler bug")

    with caplog.at_level(logging.ERROR, logger="visualizer.background.guard"):
        g = GuardedThread("midi", job, on_failure=handler)
        assert again.wait(10)
        assert g.close(timeout_s=5)
    assert any("failure handler failed" in r.getMessage() for r in caplog.records)
