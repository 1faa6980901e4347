"""The show runs with the start-up heap frozen, so no collection has to scan it (visualizer.system.heap)."""

import gc

from visualizer.engine.audio.engine import AudioChoice
from visualizer.window.app import App, AppOptions


def test_the_frame_loop_runs_with_the_startup_heap_frozen_and_gives_it_back():
    app = App(AppOptions(preset="5meo", size=(32, 32), headless=True, window=(160, 90), frames=30,
                         audio=AudioChoice("none")))
    seen = []
    frame = app.frame

    def counting_frame():
        frame()
        seen.append((gc.get_freeze_count(), len(gc.get_objects())))

    app.frame = counting_frame
    app.run()
    frozen, scanned = seen[-1]
    assert len(seen) == 30
    assert frozen > 50_000  # the start-up heap (numba, scipy, pygame, the session, pytest): measured 140 000
    assert scanned < frozen / 20  # what a collection still scans, what the 30 frames made: measured 160
    assert gc.get_freeze_count() == 0  # handed back to the collector when the loop ends
