"""``python -m visualizer.tools.faults [--json]``: inject faults into a real running Session and say
what happened. Each row: the fault, what a user should see, what happened, pass/fail, and whether
anything was lost. The audio-device faults (PulseAudio killed and restarted, a sink removed, a
source suspended, ``pactl`` hanging, an exception in the analysis thread) run against a real
PulseAudio server in ``tests/test_live_audio.py``; this table covers the engine and the files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from visualizer import presets
from visualizer.audio.features import FeatureSnapshot
from visualizer.session import Session

DT = 1 / 60
SIZE = (48, 48)


@dataclass(frozen=True)
class Row:
    fault: str
    expected: str
    happened: str
    passed: bool
    lost: str


def run_frames(session: Session, frames: int, features: FeatureSnapshot = FeatureSnapshot(status="faults")):
    state = None
    for _ in range(frames):
        state = session.advance(features, DT)
    return state


def nan_in_theta() -> Row:
    session = Session.from_preset("5meo", size=SIZE)
    run_frames(session, 30)
    session.field.theta[10:20, 10:20] = np.nan
    state = run_frames(session, 12)
    finite = bool(np.isfinite(state.theta).all())
    return Row("NaN forced into θ (100 cells)", "the cells are redrawn; the picture keeps moving",
               f"all phases finite after 12 frames: {finite}", finite, "the 100 cells' phases")


def nan_in_a_feature() -> Row:
    session = Session.from_preset("nn-dmt", size=SIZE)
    bad = FeatureSnapshot(status="faults", energy=float("nan"), bass=float("inf"), mid=-1.0)
    state = run_frames(session, 30, bad)
    ok = bool(np.isfinite(state.theta).all()) and all(np.isfinite(v) for v in state.params.as_dict().values())
    return Row("NaN/inf in the audio features", "the routes ignore them; the field runs on",
               f"params and phases finite: {ok}; K3 = {state.params.k3:.1f}", ok, "nothing")


def extreme_constants() -> Row:
    session = Session.from_preset("5meo", size=SIZE)
    for name, value in (("k1", 1e6), ("k2", -1e6), ("speed", 10.0), ("temperature", 1e9)):
        session.set_base(name, value)
    state = run_frames(session, 30)
    ok = state.params.k1 == 20 and state.params.k2 == -20 and state.params.speed == 4 and np.isfinite(state.theta).all()
    return Row("extreme constants (K = ±1e6, speed 10, T = 1e9)", "clamped to the registry's ranges",
               f"K1 {state.params.k1:g}, K2 {state.params.k2:g}, speed {state.params.speed:g}, T {state.params.temperature:g}",
               bool(ok), "nothing")


def eigenmodes_fail() -> Row:
    session = Session.from_preset("5meo", size=SIZE)
    cache = session._harmonics_cache

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")
    cache._compute = broken  # the next recompute fails
    session.set_base("k1", -15.0)
    deadline = time.monotonic() + 20
    while not cache.status and time.monotonic() < deadline:
        run_frames(session, 5)
        time.sleep(0.05)
    state = run_frames(session, 10)
    session.close()
    ok = cache.status.startswith("eigenmodes failed") and not session.eigenmodes_busy and np.isfinite(state.theta).all()
    return Row("the eigenmode computation fails", "a status line; the previous modes stay in use",
               f"status {cache.status!r}, busy {session.eigenmodes_busy}", bool(ok), "the new kernel's modes")


def corrupt_eigenmode_cache() -> Row:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CACHE_HOME"] = folder
        session = Session.from_preset("5meo", size=SIZE)
        session.set_base("k_sw", 10.0)  # small-world coupling on: graph eigenmodes, cached on disk
        run_frames(session, 2)
        deadline = time.monotonic() + 60
        while session.eigenmodes_busy and time.monotonic() < deadline:
            time.sleep(0.05)
        session.close()
        files = list(Path(folder).rglob("*.npz"))
        for f in files:
            f.write_bytes(b"garbage")
        again = Session.from_preset("5meo", size=SIZE)
        again.set_base("k_sw", 10.0)
        run_frames(again, 2)
        while again.eigenmodes_busy and time.monotonic() < deadline:
            time.sleep(0.05)
        state = run_frames(again, 10)
        again.close()
        del os.environ["XDG_CACHE_HOME"]
    ok = bool(files) and np.isfinite(state.theta).all() and not again._harmonics_cache.status
    return Row("a corrupt eigenmode cache file", "recomputed, a warning in the log",
               f"{len(files)} cache files garbled; recomputed without error: {ok}", bool(ok), "nothing")


def garbage_preset() -> Row:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mine.toml"
        path.write_text("name = 'x'\ndescription = 'y'\n[coupling]\nk = 'strong'\n")
        try:
            presets.load(path)
            return Row("a preset edited to garbage", "one line naming file and key", "it loaded", False, "-")
        except presets.PresetError as e:
            message = str(e)
    ok = "\n" not in message and "mine.toml" in message and "k = 'strong'" in message
    return Row("a preset edited to garbage", "one line naming the file, the key and what is allowed",
               message[:90], ok, "nothing: the running preset stays (N/P skip broken ones)")


def unwritable_screenshot() -> Row:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from visualizer.app import App, AppOptions
    from visualizer.audio.engine import AudioChoice

    with tempfile.TemporaryDirectory() as folder:
        blocker = Path(folder) / "file"
        blocker.write_text("")
        app = App(AppOptions(preset="5meo", size=SIZE, headless=True, window=(320, 240), audio=AudioChoice("none")))
        try:
            saved = app.screenshot(blocker / "shot.png")
            app.frame()
            ok = saved is None and app.running and "not saved" in app.hud_model.message[0]
        finally:
            app.close()
    return Row("a screenshot into an unwritable place", "a HUD message; the visuals keep running",
               f"saved: {saved}; running: {app.running}", bool(ok), "the screenshot")


def read_only_config_dir() -> Row:
    from visualizer.control.user_preset import save_user_preset

    with tempfile.TemporaryDirectory() as folder:
        blocker = Path(folder) / "file"
        blocker.write_text("")
        os.environ["XDG_CONFIG_HOME"] = str(blocker)
        session = Session.from_preset("5meo", size=SIZE)
        try:
            save_user_preset(session.preset, session.base)
            happened, ok = "saved?!", False
        except OSError as e:
            happened, ok = f"OSError: {e.strerror or e}", True
        finally:
            del os.environ["XDG_CONFIG_HOME"]
    return Row("the config dir cannot be written", "saving a user preset fails with a message, nothing else",
               happened, ok, "the preset being saved")


FAULTS: tuple[Callable[[], Row], ...] = (nan_in_theta, nan_in_a_feature, extreme_constants, eigenmodes_fail,
                                         corrupt_eigenmode_cache, garbage_preset, unwritable_screenshot,
                                         read_only_config_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.tools.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for fault in FAULTS:
        try:
            rows.append(fault())
        except Exception as e:  # noqa: BLE001 — a fault that escapes is itself the finding
            rows.append(Row(fault.__name__, "handled", f"escaped: {type(e).__name__}: {e}", False, "?"))
    if args.json:
        json.dump([asdict(r) for r in rows], sys.stdout, indent=1)
        print()
    else:
        for r in rows:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.fault:50s} expected: {r.expected}\n"
                  f"      happened: {r.happened}   lost: {r.lost}")
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
