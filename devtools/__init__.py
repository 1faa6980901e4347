"""Developer tools, not installed with the program: benchmarks, evaluation, the fault table, soak,
plots, synthetic audio and the private PulseAudio server the tests use. Run them from the
repository root, e.g. ``python -m devtools.bench``."""

import os
from pathlib import Path

SHARED_BEATS = Path(__file__).resolve().parents[2] / "shared" / "data" / "beats"  # ../shared beside the checkout
# devtools/make_music.py's music (and the beat model's training material in its train/): $VISUALIZER_MATERIAL
# (CI makes it there), else ../material beside the checkout
MATERIAL = Path(os.environ.get("VISUALIZER_MATERIAL") or Path(__file__).resolve().parents[2] / "material")
