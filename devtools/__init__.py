"""Developer tools, not installed with the program: benchmarks, evaluation, the fault table, soak,
plots, synthetic audio and the private PulseAudio server the tests use. Run them from the
repository root, e.g. ``python -m devtools.bench``."""

from pathlib import Path

SHARED_BEATS = Path(__file__).resolve().parents[2] / "shared" / "data" / "beats"  # ../shared beside the checkout
