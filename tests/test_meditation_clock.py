"""A session runs on the wall clock: however many frames a second the machine makes, each phase
begins when its planned time has passed on the clock, not after a number of frames."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.engine.session import Session
from visualizer.meditation import timeline
from visualizer.meditation.runner import SessionDriver, StepClock
from visualizer.meditation.sound import SILENCE


@pytest.mark.parametrize("frames", ["20 fps", "uneven"])
def test_a_session_at_20_fps_reaches_each_phase_within_half_a_second_of_its_wall_time(frames):
    """The clock moves 1/20 s between frames ("20 fps", a third of the 60 the session was
    written for: a frame-counting timeline reached energise at 135 s instead of 45), or by
    uneven steps of 0..0.1 s with a 0.45 s stall every 97 frames. Each phase is entered at the
    first frame at or after its planned start, so within one frame (< 0.5 s) of it, and the
    session ends when the clock reaches its length."""
    plan = timeline.load(timeline.resolve("mettannealing-short"))
    session = Session.from_preset(plan.preset, size=(32, 32), seed=0, deterministic=True)
    rng = np.random.default_rng(0)
    clock = StepClock()
    entered: dict[int, float] = {}
    count = 0
    try:
        driver = SessionDriver(plan, session, clock=clock)
        while not driver.finished:
            _, view = driver.frame(SILENCE)
            entered.setdefault(view.phase_index, clock())
            count += 1
            if frames == "20 fps":
                clock.advance(1 / 20)
            else:
                clock.advance(0.45 if count % 97 == 0 else rng.uniform(0.0, 0.1))
    finally:
        session.close()
    assert sorted(entered) == list(range(len(plan.phases)))
    for index, start in enumerate(plan.starts_s):
        assert 0.0 <= entered[index] - start < 0.5, (plan.phases[index].name, entered[index], start)
    assert 0.0 <= clock() - plan.duration_s < 0.5  # over when the clock says so
    if frames == "20 fps":
        assert count == pytest.approx(20 * plan.duration_s, abs=2)  # not the 60 × 300 a frame count needs
    assert driver.recorder.ran_s == pytest.approx(plan.duration_s)
    samples = np.array(driver.recorder.series["t"])  # one a second: the first frame of each second
    seconds = np.arange(round(plan.duration_s))
    assert samples.size == seconds.size and (samples >= seconds).all() and (samples - seconds < 0.5).all()
