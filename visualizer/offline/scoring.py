"""Beat accuracy against annotations, as ``visualizer analyze --truth`` and the developers'
evaluation score it: mir_eval's F-measure (±70 ms) and AMLt, beats before 5 s trimmed."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_beats(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Annotation times (s) from ``path`` — the first column of each line, ``#`` lines skipped —
    and the downbeats when every line also gives a beat-in-bar (``time<TAB>beat-in-bar``)."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip() and not line.startswith("#")]
    times = np.array([float(r[0]) for r in rows])
    if rows and all(len(r) == 2 for r in rows):
        return times, np.array([float(r[0]) for r in rows if float(r[1]) == 1])
    return times, None


def beat_scores(reference: np.ndarray, estimated: np.ndarray) -> tuple[float, float]:
    """(F-measure ±70 ms, AMLt) of ``estimated`` beat times against ``reference`` (s), beats
    before 5 s trimmed from both (mir_eval's convention)."""
    import mir_eval

    ref, est = mir_eval.beat.trim_beats(np.asarray(reference)), mir_eval.beat.trim_beats(np.asarray(estimated))
    if est.size < 2:
        return 0.0, 0.0
    return mir_eval.beat.f_measure(ref, est, 0.07), mir_eval.beat.continuity(ref, est)[3]
