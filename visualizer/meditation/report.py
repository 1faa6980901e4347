"""The session report: DIR/report.json (what ran, the person's side, 1 Hz series) and DIR/report.png.

The report says what actually ran: the phases reached, the time spent in each, whether the
person ended it early; and the person's side: the intention and calm before and after (1..5).
The series are sampled once per second of session time: the field's energy E, its temperature T
(the annealer's turbulence plus the base Langevin temperature), global order R, the
correlation length (``visualizer.engine.sim.measures.correlation_length``) and the live injection
(rad/s: what the drone or the music poured in). The hot state (the field as the first cooling phase begins) is
kept so the report can compare the session's slow cooling with stopping abruptly: an instant
quench from that same state, followed by the same time the session spent after its cooling; and
with a quench held for the same total time as the cooling and what followed it (issue 10's
comparison).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
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
    """Keeps the 1 Hz series, the phases as they actually ran and the hot state while a session runs.

    ``phases`` rows (dicts): index (in the plan), name, start_s / end_s (session time it was entered / left), ran_s
    (time actually spent in it, s), planned_s, how ("completed", "skipped", "ended early").
    """

    def __init__(self, plan: SessionPlan):
        self.plan = plan
        self.series: dict[str, list[float]] = {"t": [], "E": [], "T": [], "R": [], "corr_length": [], "injection": []}
        self.phases: list[dict] = []
        self.threshold = 0.0
        self.hot_state: HotState | None = None
        self.cooled_t: float | None = None  # when the (first run of) cooling phases ended
        self.last_t = 0.0
        self.last_theta: np.ndarray | None = None
        self.ended_early = False
        self._next_sample_s = 0.0

    def enter(self, index: int, t_s: float) -> None:
        """Phase ``index`` begins at session time ``t_s``; the one running before is closed as
        completed if it ran to its planned end, else as skipped."""
        if self.phases:
            self._close(early=False)
        phase = self.plan.phases[index]
        self.phases.append({"index": index, "name": phase.name, "start_s": t_s, "end_s": t_s, "ran_s": 0.0,
                            "planned_s": phase.duration_s, "how": "running"})

    def _close(self, *, early: bool) -> None:
        row = self.phases[-1]
        planned_end = self.plan.starts_s[row["index"]] + row["planned_s"]
        row["how"] = "ended early" if early else ("completed" if row["end_s"] >= planned_end - 1e-6 else "skipped")

    def finish(self, *, early: bool) -> None:
        """The session stopped: at its end, or ``early`` (the person ended it)."""
        self.ended_early = early
        if self.phases and self.phases[-1]["how"] == "running":
            self._close(early=early)

    @property
    def ran_s(self) -> float:
        """Time the session actually ran (s; pauses and skipped stretches not counted)."""
        return sum(row["ran_s"] for row in self.phases)

    def observe(self, t_s: float, state: FrameState, *, cooling: bool, dt_s: float) -> None:
        """Called every running frame at session time ``t_s`` with the frame's state and its
        length ``dt_s`` (the frame covers ``t_s`` .. ``t_s + dt_s``); ``cooling``: this frame
        belongs to a cooling phase."""
        self.last_t = t_s
        if self.phases:
            row = self.phases[-1]
            row["ran_s"] += dt_s
            row["end_s"] = t_s + dt_s
        self.threshold = state.annealing.threshold
        if cooling and self.hot_state is None:
            self.hot_state = HotState(t_s, np.array(state.theta), state.annealing.disorder)
        if not cooling and self.hot_state is not None and self.cooled_t is None:
            self.cooled_t = t_s
        if t_s + 1e-9 >= self._next_sample_s:  # on whole seconds, whatever the frames' lengths
            self._next_sample_s = math.floor(t_s + 1e-9) + 1.0
            self.last_theta = np.array(state.theta)
            s = self.series
            s["t"].append(round(t_s, 3))
            s["E"].append(state.annealing.energy)
            s["T"].append(state.annealing.temperature + state.params.temperature)
            s["R"].append(state.measures.order)
            s["corr_length"].append(correlation_length(state.theta))
            s["injection"].append(state.params.injection)


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
class Person:
    """The person's side of a session: the intention, and calm before and after (1..5, None:
    not given; asked in the window, or set by --calm-before/--calm-after)."""

    intention: str = ""
    calm_before: int | None = None
    calm_after: int | None = None


@dataclass(frozen=True)
class SessionReport:
    """The figures of one run (all times in s, lengths in cells).

    phases : the phases as they ran (``Recorder.phases``). planned_s, ran_s : the plan's length
    and the time it actually ran. ended_early : the person ended it before its end (at
    ``ended_at_s`` of session time). started_at : local date and time, ISO 8601. audio : what the
    music phases listened to ("" none).
    """

    name: str
    started_at: str
    planned_s: float
    ran_s: float
    ended_early: bool
    ended_at_s: float
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
    calm_before: int | None
    calm_after: int | None
    audio: str


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


@dataclass(frozen=True)
class Quenches:
    """The report's comparisons (``runner.SessionDriver.report``): correlation lengths (cells)
    after a quench run for ``quench_run_s`` and for ``equal_time_run_s``; None: not run."""

    quench: float | None = None
    quench_run_s: float | None = None
    equal_time: float | None = None
    equal_time_run_s: float | None = None


def summarise(recorder: Recorder, *, quenches: Quenches, person: Person, started_at: str,
              audio: str = "") -> SessionReport:
    s, plan = recorder.series, recorder.plan
    energy = np.array(s["E"])
    # the field starts from random phases (E ≈ 1): count from the first time it has relaxed below
    relaxed = np.flatnonzero(energy <= recorder.threshold)
    settled = energy[relaxed[0]:] if relaxed.size else energy[:0]
    above = np.flatnonzero(settled > recorder.threshold) + (relaxed[0] if relaxed.size else 0)
    rows = recorder.phases
    cooling = sum(row["ran_s"] for row in rows if plan.phases[row["index"]].cooling is not None)
    return SessionReport(
        name=plan.name, started_at=started_at, planned_s=plan.duration_s, ran_s=round(recorder.ran_s, 3),
        ended_early=recorder.ended_early, ended_at_s=rows[-1]["end_s"] if rows else 0.0, phases=rows,
        threshold=recorder.threshold,
        time_above_threshold_s=float(above.size),  # one sample per second
        first_above_threshold_s=float(s["t"][above[0]]) if above.size else None,
        cooling_time_s=round(cooling, 3), peak_energy=float(settled.max()) if settled.size else 0.0,
        final_corr_length=correlation_length(recorder.last_theta) if recorder.last_theta is not None else 0.0,
        quench_corr_length=quenches.quench, quench_run_s=quenches.quench_run_s,
        equal_time_quench_corr_length=quenches.equal_time, equal_time_run_s=quenches.equal_time_run_s,
        hot_state_s=recorder.hot_state.t_s if recorder.hot_state else None, intention=person.intention,
        calm_before=person.calm_before, calm_after=person.calm_after, audio=audio)


def write_report(directory: Path, report: SessionReport, series: dict[str, list[float]],
                 history: list[dict] | None = None) -> None:
    """Write report.json and report.png into ``directory`` (created); ``history``: the person's
    past sessions (``history.read``), plotted as calm ratings over sessions.

    Raises ReportError (one line) when they cannot be written (a read-only or full disk); a
    half-written file is removed."""
    directory = Path(directory)
    document = {**asdict(report), "series": series}
    path = directory / "report.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=1))
        path = directory / "report.png"
        plot_report(report, series, path, history or [])
    except ImportError:
        log.warning("session report: report.png needs matplotlib (pip install matplotlib); wrote report.json only")
    except OSError as e:
        with contextlib.suppress(OSError):  # nothing there, or a read-only dir
            path.unlink()
        raise ReportError(f"cannot write the session report {path}: {e.strerror or e}") from e
    log.info("session report: %s", directory / "report.json")


def headline(report: SessionReport) -> str:
    """One line for the terminal and the plot's title: what ran, and how it ended."""
    ran = f"ended early at {report.ended_at_s:.0f} s of {report.planned_s:.0f} s" if report.ended_early \
        else f"{report.ran_s:.0f} s"
    reached = ", ".join(row["name"] for row in report.phases)
    return (f"{report.name}: {ran} (phases: {reached}); {report.time_above_threshold_s:.0f} s above the threshold, "
            f"{report.cooling_time_s:.0f} s of cooling")


def plot_report(report: SessionReport, series: dict[str, list[float]], path: Path, history: list[dict]) -> None:
    """The timeline as it ran: E (threshold dashed, time above it shaded), T, R and the
    correlation length (the quenches' final values marked), phases shaded and named along the
    top; below, calm before and after over the person's sessions when any were rated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rated = [h for h in history if h.get("calm_before") is not None or h.get("calm_after") is not None]
    rows = 5 if rated else 4
    fig, axes = plt.subplots(rows, 1, figsize=(9, 1.9 * rows), constrained_layout=True,
                             gridspec_kw={"height_ratios": [1] * 4 + [1.2] * (rows - 4)})
    timeline_axes = axes[:4]
    for ax in timeline_axes[1:]:
        ax.sharex(timeline_axes[0])
    shades = ("#f3efe6", "#e6eef3")
    for ax in timeline_axes:
        for i, p in enumerate(report.phases):
            ax.axvspan(p["start_s"], p["end_s"], color=shades[i % 2], zorder=0)
        for before, after in zip(report.phases, report.phases[1:]):  # a skip: hatched, not drawn over
            if after["start_s"] - before["end_s"] > 1e-6:
                ax.axvspan(before["end_s"], after["start_s"], fill=False, hatch="//", color="#c8c8c8", lw=0, zorder=0)
    for before, after in zip(report.phases, report.phases[1:]):
        if after["start_s"] - before["end_s"] > 1e-6:
            axes[0].annotate("skipped", ((before["end_s"] + after["start_s"]) / 2, 1.02), ha="center", va="bottom",
                             xycoords=("data", "axes fraction"), fontsize=8, color="#888888")
    for p in report.phases:
        axes[0].annotate(p["name"], ((p["start_s"] + p["end_s"]) / 2, 1.02), xycoords=("data", "axes fraction"),
                         ha="center", va="bottom", fontsize=8)
    t, e = _unjoined(series["t"], series["E"])
    axes[0].plot(t, e, color="#b5542c")
    axes[0].axhline(report.threshold, color="k", ls="--", lw=0.8)
    axes[0].fill_between(t, 0, np.nanmax(e) if e.size else 1, where=e > report.threshold, color="#e8a07a",
                         alpha=0.35, lw=0)
    axes[0].set_ylabel("energy E")
    axes[0].set_title(headline(report), fontsize=9, pad=16)
    axes[1].plot(*_unjoined(series["t"], series["T"]), color="#c23b6b")
    axes[1].set_ylabel("temperature T")
    axes[2].plot(*_unjoined(series["t"], series["R"]), color="#3b6bc2")
    axes[2].set_ylabel("order R")
    axes[2].set_ylim(0, 1)
    _plot_order(axes[3], report, series)
    if rated:
        _plot_calm(axes[4], rated)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _unjoined(t: list[float], y: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """``t``, ``y`` as arrays with a NaN wherever the session jumped ahead more than 1.5 s (a
    skipped stretch), so a plotted line is not joined across it."""
    t_array, y_array = np.asarray(t, float), np.asarray(y, float)
    cut = np.flatnonzero(np.diff(t_array) > 1.5) + 1
    return np.insert(t_array, cut, np.nan), np.insert(y_array, cut, np.nan)


def _plot_order(ax, report: SessionReport, series: dict[str, list[float]]) -> None:
    """The correlation length over the session, and the quenches' values at its end."""
    t = series["t"]
    ax.plot(*_unjoined(t, series["corr_length"]), color="#2c8a5a",
            label="session" + (" (slow cooling)" if report.cooling_time_s > 0 else ""))
    if report.quench_corr_length is not None:
        ax.scatter([t[-1]], [report.quench_corr_length], marker="x", color="k", zorder=3,
                   label=f"stopping abruptly (quench from the hot state, then {report.quench_run_s:.0f} s): "
                         f"{report.quench_corr_length:.1f}")
    if report.equal_time_quench_corr_length is not None:
        ax.scatter([t[-1]], [report.equal_time_quench_corr_length], marker="+", s=80, color="#7a3fb5", zorder=3,
                   label=f"quench held as long as the cooling and after ({report.equal_time_run_s:.0f} s): "
                         f"{report.equal_time_quench_corr_length:.1f}")
    if report.quench_corr_length is not None or report.equal_time_quench_corr_length is not None:
        ax.scatter([t[-1]], [report.final_corr_length], marker="o", color="#2c8a5a", zorder=3,
                   label=f"after slow cooling: {report.final_corr_length:.1f}")
    ax.set_ylabel("correlation length\n(cells)")
    ax.set_xlabel("session time (s)")
    ax.legend(loc="upper left", fontsize=8)


def _plot_calm(ax, rated: list[dict]) -> None:
    """Calm (1..5) before (open) and after (filled) each rated session, oldest first."""
    x = np.arange(1, len(rated) + 1)
    for key, style in (("calm_before", dict(marker="o", mfc="white", label="before")),
                       ("calm_after", dict(marker="o", label="after"))):
        y = [np.nan if h.get(key) is None else h[key] for h in rated]
        ax.plot(x, y, color="#7a5a2c", ls="-", lw=0.8, **style)
    ax.set_ylim(0.5, 5.5)
    ax.set_yticks(range(1, 6))
    when = [str(h.get("started_at", ""))[:16].replace("T", " ") for h in rated]
    ax.set_xticks(x, when, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("calm (1–5)")
    ax.set_title("your sessions: calm before and after", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
