"""Nothing compiles or loads on the frame path (visualizer.engine.sim.warmup): after
``prepare_kernels()``, running every shipped preset in the real app adds no kernel signature."""

import json
import subprocess
import sys

from visualizer.engine.sim.warmup import prepare_kernels

# a child process, so the signatures are those of this run alone: prepare, then every preset's
# frames (headless app, the demo track: beats kick the eigenmodes), counting numba overloads
CHILD = r"""
import json, os, sys, time
os.environ["SDL_VIDEODRIVER"] = "dummy"
from numba.core.registry import CPUDispatcher
from visualizer.engine.sim.warmup import prepare_kernels
from visualizer.engine.presets import preset_dirs
from visualizer.window.app import App, AppOptions
from visualizer.window.lattice_view import warm_up

def signatures():
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("visualizer"):
            for obj in vars(module).values():
                if isinstance(obj, CPUDispatcher):
                    found[f"{obj.py_func.__module__}.{obj.py_func.__name__}"] = sorted(map(str, obj.signatures))
    return found

prepare_kernels()
warm_up()  # the window's own kernel (the 3D lattice's dots), which App loads at start-up too
prepared = signatures()
for path in sorted(preset_dirs()[-1].glob("*.toml")):
    app = App(AppOptions(preset=path.stem, size=(48, 48), headless=True, window=(320, 180)))
    app.frame()
    while app.session.eigenmodes_busy:  # the graph eigenmodes (small-world links) are in use from here
        time.sleep(0.05)
    for _ in range(150):
        app.frame()
    app.close()
print(json.dumps({"prepared": prepared, "after": signatures()}))
"""


def test_every_presets_frames_use_only_kernels_loaded_before_the_first_frame():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.splitlines()[-1])
    prepared, after = result["prepared"], result["after"]
    added = {name: sorted(set(sigs) - set(prepared.get(name, ()))) for name, sigs in after.items()}
    added = {name: sigs for name, sigs in added.items() if sigs}
    assert added == {}
    assert "visualizer.engine.sim.harmonics.accumulate" in prepared  # the kicks into graph modes (5meo)
    # the flash limiter's limited-frame kernels, which few presets reach in 150 frames
    limited = ("blend_table", "blend_toward", "counts_with_events", "recent_counts")
    assert all(prepared.get(f"visualizer.render.flash.{name}") for name in limited)


def test_visualizer_compile_fills_the_cache_and_says_so():
    out = subprocess.run([sys.executable, "-m", "visualizer", "compile"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("visualizer: kernels compiled and cached in ") and out.stderr == ""


def test_prepare_kernels_runs_once_per_process():
    prepare_kernels()
    assert prepare_kernels() == 0.0
