"""The session report: DIR/report.json (phases and 1 Hz series) and DIR/report.png.

The series are sampled once per second of session time: the field's energy E, its temperature T
(the annealer's turbulence plus the base Langevin temperature), global order R and the
correlation length (``visualizer.engine.sim.measures.correlation_length``). The hot state (the field as the first cooling phase begins) is
kept so the report can compare the session's slow cooling with stopping abruptly: an instant
quench from that same state, followed by the same time the session spent after its cooling; and
with a quench held for the same total time as the cooling and what followed it (issue 10's
comparison).
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.params import COUPLINGS
from visualizer.engine.session import FrameState, Session
from visualizer.engine.sim.measures import correlation_length
from visualizer.meditation import ReportError
from visualizer.meditation.timeline import SessionPlan

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class HotState:
    """The field as the first cooling phase began: t_s (session s), theta (H, W) copy and the
    annealer's frequency disorder then."""

    t_s: float
    theta: np.ndarray
    disorder: float


class Recorder:
    """Keeps the 1 Hz series and the hot state while a session runs."""

    def __init__(self, plan: SessionPlan):
        self.plan = plan
        self.series: dict[str, list[float]] = {"t": [], "E": [], "T": [], "R": [], "corr_length": []}
        self.threshold = 0.0
        self.hot_state: HotState | None = None
        self.cooled_t: float | None = None  # when the (first run of) cooling phases ended
        self.last_t = 0.0
        self.last_theta: np.ndarray | None = None

    def observe(self, t_s: float, state: FrameState, *, cooling: bool) -> None:
        """Called every running frame at session time ``t_s`` (before the frame's dt is added)
        with the frame's state; ``cooling``: this frame belongs to a cooling phase."""
        self.last_t = t_s
        self.threshold = state.annealing.threshold
        if cooling and self.hot_state is None:
            self.hot_state = HotState(t_s, np.array(state.theta), state.annealing.disorder)
        if not cooling and self.hot_state is not None and self.cooled_t is None:
            self.cooled_t = t_s
        if not self.series["t"] or t_s + 1e-9 >= self.series["t"][-1] + 1.0:
            self.last_theta = np.array(state.theta)
            s = self.series
            s["t"].append(round(t_s, 3))
            s["E"].append(state.annealing.energy)
            s["T"].append(state.annealing.temperature + state.params.temperature)
            s["R"].append(state.measures.order)
            s["corr_length"].append(correlation_length(state.theta))


def quench_from(session: Session, hot: HotState, *, kernel: tuple[float, ...], frames: int, dt: float) -> float:
    """Correlation length after an instant quench: a fresh Session on the same preset, size
    and seed (same frequencies and links) starts from the ``hot`` state (phases and frequency
    disorder) with the final ``kernel``, no injection, temperature 0, and runs ``frames`` frames
    of ``dt`` s in silence."""
    copy = Session(session.preset, size=session.shape, seed=session.seed, deterministic=True)
    try:
        copy.restore(theta=hot.theta, disorder=hot.disorder)
        copy.set_bases(copy.base.replace(**dict(zip(COUPLINGS, kernel)), injection=0.0, temperature=0.0))
        silence = FeatureSnapshot(status="none")
        for _ in range(frames):
            copy.advance(silence, dt)
        return correlation_length(copy.field.theta)
    finally:
        copy.close()


@dataclass(frozen=True)
class SessionReport:
    """The figures of one run (all times in s, lengths in cells)."""

    name: str
    phases: list[dict]
    threshold: float
    time_above_threshold_s: float
    first_above_threshold_s: float | None
    cooling_time_s: float
    peak_energy: float
    final_corr_length: float
    quench_corr_length: float | None
    hot_state_s: float | None
    quench_run_s: float | None
    equal_time_quench_corr_length: float | None
    equal_time_run_s: float | None
    intention: str


def _phases(plan: SessionPlan, end_s: float) -> list[dict]:
    rows = []
    for start, phase in zip(plan.starts_s, plan.phases):
        if start < end_s:
            rows.append({"name": phase.name, "start_s": start, "end_s": min(start + phase.duration_s, end_s)})
    return rows


def quench_frames(recorder: Recorder, *, fps: int) -> int:
    """Frames the quench copy runs: the session's time after its cooling ended (0: none)."""
    if recorder.hot_state is None or recorder.cooled_t is None:
        return 0
    return round((recorder.last_t - recorder.cooled_t) * fps)


def equal_time_frames(recorder: Recorder, *, fps: int) -> int:
    """Frames an equal-time quench runs: from the hot state to the session's end (0: no cooling)."""
    if recorder.hot_state is None:
        return 0
    return round((recorder.last_t - recorder.hot_state.t_s) * fps)


def summarise(recorder: Recorder, *, quench: float | None, quench_run_s: float | None, intention: str,
              equal_time_quench: float | None = None, equal_time_run_s: float | None = None) -> SessionReport:
    s, plan = recorder.series, recorder.plan
    energy = np.array(s["E"])
    # the field starts from random phases (E ≈ 1): count from the first time it has relaxed below
    relaxed = np.flatnonzero(energy <= recorder.threshold)
    settled = energy[relaxed[0]:] if relaxed.size else energy[:0]
    above = np.flatnonzero(settled > recorder.threshold) + (relaxed[0] if relaxed.size else 0)
    end_s = recorder.last_t
    phases = _phases(plan, end_s)
    cooling = sum(p["end_s"] - p["start_s"] for p, ph in zip(phases, plan.phases) if ph.cooling is not None)
    return SessionReport(
        name=plan.name, phases=phases, threshold=recorder.threshold,
        time_above_threshold_s=float(above.size),  # one sample per second
        first_above_threshold_s=float(s["t"][above[0]]) if above.size else None,
        cooling_time_s=cooling, peak_energy=float(settled.max()) if settled.size else 0.0,
        final_corr_length=correlation_length(recorder.last_theta) if recorder.last_theta is not None else 0.0,
        quench_corr_length=quench, quench_run_s=quench_run_s,
        equal_time_quench_corr_length=equal_time_quench, equal_time_run_s=equal_time_run_s,
        hot_state_s=recorder.hot_state.t_s if recorder.hot_state else None, intention=intention)


def write_report(directory: Path, recorder: Recorder, *, quench: float | None, quench_run_s: float | None,
                 intention: str, equal_time_quench: float | None = None,
                 equal_time_run_s: float | None = None) -> SessionReport:
    """Write report.json and report.png into ``directory`` (created); returns the figures.

    Raises ReportError (one line) when they cannot be written (a read-only or full disk); a
    half-written file is removed."""
    directory = Path(directory)
    report = summarise(recorder, quench=quench, quench_run_s=quench_run_s, intention=intention,
                       equal_time_quench=equal_time_quench, equal_time_run_s=equal_time_run_s)
    document = {**asdict(report), "series": recorder.series}
    path = directory / "report.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=1))
        path = directory / "report.png"
        plot_report(report, recorder.series, path)
    except ImportError:
        log.warning("session report: report.png needs matplotlib (pip install matplotlib); wrote report.json only")
    except OSError as e:
        with contextlib.suppress(OSError):  # nothing there, or a read-only dir
            path.unlink()
        raise ReportError(f"cannot write the session report {path}: {e.strerror or e}") from e
    log.info("session report: %s", directory / "report.json")
    return report


def plot_report(report: SessionReport, series: dict[str, list[float]], path: Path) -> None:
    """The timeline: E (threshold dashed, time above it shaded), T, R and the correlation
    length (the quench's final value marked), phases shaded and named along the top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.array(series["t"])
    fig, axes = plt.subplots(4, 1, figsize=(9, 7.5), sharex=True, constrained_layout=True)
    shades = ("#f3efe6", "#e6eef3")
    for ax in axes:
        for i, p in enumerate(report.phases):
            ax.axvspan(p["start_s"], p["end_s"], color=shades[i % 2], zorder=0)
    for p in report.phases:
        axes[0].annotate(p["name"], ((p["start_s"] + p["end_s"]) / 2, 1.02), xycoords=("data", "axes fraction"),
                         ha="center", va="bottom", fontsize=8)
    e = np.array(series["E"])
    axes[0].plot(t, e, color="#b5542c")
    axes[0].axhline(report.threshold, color="k", ls="--", lw=0.8)
    axes[0].fill_between(t, 0, e.max() if e.size else 1, where=e > report.threshold, color="#e8a07a", alpha=0.35, lw=0)
    axes[0].set_ylabel("energy E")
    axes[0].set_title(f"{report.name}: {report.time_above_threshold_s:.0f} s above the threshold, "
                      f"{report.cooling_time_s:.0f} s of cooling", fontsize=10, pad=16)
    axes[1].plot(t, series["T"], color="#c23b6b")
    axes[1].set_ylabel("temperature T")
    axes[2].plot(t, series["R"], color="#3b6bc2")
    axes[2].set_ylabel("order R")
    axes[2].set_ylim(0, 1)
    axes[3].plot(t, series["corr_length"], color="#2c8a5a", label="session (slow cooling)")
    if report.quench_corr_length is not None:
        axes[3].scatter([t[-1]], [report.quench_corr_length], marker="x", color="k", zorder=3,
                        label=f"stopping abruptly (quench from the hot state, then {report.quench_run_s:.0f} s): "
                              f"{report.quench_corr_length:.1f}")
    if report.equal_time_quench_corr_length is not None:
        axes[3].scatter([t[-1]], [report.equal_time_quench_corr_length], marker="+", s=80, color="#7a3fb5", zorder=3,
                        label=f"quench held as long as the cooling and after ({report.equal_time_run_s:.0f} s): "
                              f"{report.equal_time_quench_corr_length:.1f}")
    if report.quench_corr_length is not None or report.equal_time_quench_corr_length is not None:
        axes[3].scatter([t[-1]], [report.final_corr_length], marker="o", color="#2c8a5a", zorder=3,
                        label=f"after slow cooling: {report.final_corr_length:.1f}")
    axes[3].set_ylabel("correlation length\n(cells)")
    axes[3].set_xlabel("session time (s)")
    axes[3].legend(loc="upper left", fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)
