"""``python -m devtools.plot``: run a preset headless on the demo track (or a file) and plot
the music beside what the field did: audio energy and bass, the annealer's energy E and
temperature T, the order R, the number of patches and the correlation length, the routed K3/K_SW,
and what the preset's own slow cooling gives against a quench from the same hot state.
``--table`` prints the trace figures of every preset on the demo track and on a real recording;
``--cooling-seeds N`` the cooling comparison over seeds (slow, quench, perfect order, vortices).

Needs matplotlib (``pip install -e '.[test]'`` brings it).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devtools import SHARED_BEATS
from visualizer.engine import presets
from visualizer.engine.audio.demo import demo_paths
from visualizer.engine.audio.engine import LockstepAudio
from visualizer.engine.audio.features import FeatureSnapshot
from visualizer.engine.session import MEASURE_EVERY, Session
from visualizer.engine.sim.measures import correlation_length, vortex_count

FPS = 60
SETTLE_S = 2.0  # both branches of a cooling comparison end with this long at their final settings
QUIET = FeatureSnapshot(status="silence")  # the music's routes at rest: the kernel of a quiet passage
WALTZ = SHARED_BEATS / "ballroom_waltz.wav"

SERIES = ("time_s", "audio_energy", "audio_bass", "k3", "k_sw", "injection", "E", "T", "R", "patches", "hot",
          "anti_phase", "corr_length", "disorder")


def _run(preset: str, seconds: float, size: int, seed: int, audio_path: Path | None
         ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    audio = LockstepAudio(audio_path or demo_paths()[0], loop=audio_path is None)
    session = Session.from_preset(preset, size=(size, size), seed=seed, deterministic=True)
    rows = []
    try:
        while session.time_s < seconds:
            audio.advance(1 / FPS)
            f = audio.latest()
            state = session.advance(f, 1 / FPS)
            if state.frame % MEASURE_EVERY == 0:
                p, m, a = state.params, state.measures, state.annealing
                rows.append((state.time_s, f.energy, f.bass, p.k3, p.k_sw, p.injection,
                             a.energy, a.temperature, m.order, m.patches, a.phase == "hot", m.antiphase,
                             m.corr_length, a.disorder))
        theta = session.field.theta.copy()
    finally:
        session.close()
    data = np.array(rows, dtype=np.float64)
    return {name: data[:, i] for i, name in enumerate(SERIES)}, theta


def record(*, preset: str = "nn-dmt", seconds: float = 48.0, size: int = 128, seed: int = 0,
           audio_path: Path | None = None) -> dict[str, np.ndarray]:
    """Run the preset headless (audio analysed in lockstep) and record one sample per measurement."""
    return _run(preset, seconds, size, seed, audio_path)[0]


@dataclass(frozen=True)
class CoolingComparison:
    """Correlation lengths (cells, ``measures.correlation_length``): ``hot`` as cooling began,
    ``slow`` after the preset's own cooling schedule, ``quench`` after an instant quench from the
    same hot state held for the same time ``run_s`` (s), and ``ordered`` after a perfectly ordered
    start (uniform; the checkerboard where the nearest ring repels) held as long: the state the
    natural frequencies pull every history toward (one domain only if they let it stay one).
    ``slow_vortices`` / ``quench_vortices``: the topological defects left (``measures.vortex_count``)."""

    hot: float
    slow: float
    quench: float
    ordered: float
    slow_vortices: int
    quench_vortices: int
    run_s: float


def _advance(session: Session, seconds: float) -> None:
    for _ in range(int(round(seconds * FPS))):
        session.advance(QUIET, 1 / FPS)


def compare_cooling(preset: str, *, size: int = 64, seed: int = 0, theta: np.ndarray | None = None) -> CoolingComparison:
    """Heat the preset's field (from ``theta``, else its random start) with its annealer's own hot
    phase in a quiet passage, then from the state as cooling begins run (a) the annealer's
    cooling schedule, (b) an instant quench (temperature 0, full coupling) and (c) the same from
    perfect order, each for cooling_time_s + SETTLE_S, same seed (same frequencies and links)."""
    session = Session.from_preset(preset, size=(size, size), seed=seed, deterministic=True)
    quench = Session(session.preset, size=(size, size), seed=seed, deterministic=True)
    ordered = Session(session.preset, size=(size, size), seed=seed, deterministic=True)
    try:
        if theta is not None:
            session.field.theta = theta
        session.annealer.heat()
        while session.annealer.phase == "hot":
            session.advance(QUIET, 1 / FPS)
        quench.field.theta = session.field.theta
        for branch in (quench, ordered):  # the hot state's consolidation, if an earlier cooling left any
            branch.annealer.disorder = session.annealer.disorder
        antiphase = session.live.k[0] < 0
        y, x = np.indices(ordered.field.shape)
        ordered.field.theta = np.pi * ((x + y) % 2) if antiphase else np.zeros(ordered.field.shape)
        hot = correlation_length(session.field.theta)
        run_s = session.preset.annealing.cooling_time_s + SETTLE_S
        for branch in (session, quench, ordered):
            _advance(branch, run_s)
        return CoolingComparison(hot, correlation_length(session.field.theta), correlation_length(quench.field.theta),
                                 correlation_length(ordered.field.theta),
                                 vortex_count(session.field.theta, antiphase=antiphase),
                                 vortex_count(quench.field.theta, antiphase=antiphase), run_s)
    finally:
        for branch in (session, quench, ordered):
            branch.close()


def table(names: list[str], tracks: list[Path], *, seconds: float, size: int, seed: int) -> list[dict]:
    """One row per preset and track: median R, hot share, median patches and anti-phase share over
    the run, and the cooling comparison from the field as the run ended (with the ordered start's
    length and the vortices left after slow cooling / the quench)."""
    rows = []
    for track in tracks:
        for name in names:
            series, theta = _run(name, seconds, size, seed, track)
            row = {"preset": name, "track": track.stem, "R": float(np.median(series["R"])),
                   "hot": float(np.mean(series["hot"])), "patches": float(np.median(series["patches"])),
                   "anti_phase": float(np.median(series["anti_phase"])),
                   "corr_length": float(np.median(series["corr_length"]))}
            cooled = "annealing off | | | | |"
            if presets.load_preset(name).annealing.enabled:
                cooling = compare_cooling(name, size=size, seed=seed, theta=theta)
                row.update(slow=cooling.slow, quench=cooling.quench, ordered=cooling.ordered,
                           slow_vortices=cooling.slow_vortices, quench_vortices=cooling.quench_vortices,
                           cooling_run_s=cooling.run_s)
                cooled = (f"{cooling.slow:.1f} | {cooling.quench:.1f} | {cooling.slow / cooling.quench:.2f} | "
                          f"{cooling.ordered:.1f} | {cooling.slow_vortices} / {cooling.quench_vortices} |")
            rows.append(row)
            print(f"| {name} | {track.stem} | {row['R']:.2f} | {row['hot']:.2f} | {row['patches']:.0f} | "
                  f"{row['anti_phase']:.2f} | {row['corr_length']:.1f} | {cooled}", flush=True)
    return rows


def cooling_seeds(name: str, *, seeds: int, size: int) -> list[CoolingComparison]:
    """``compare_cooling`` from the preset's random start for seeds 0..seeds−1, printed as a
    markdown table (one row per seed, then the medians)."""
    print(f"| {name}, {size}², seed | hot | after slow cooling | after a quench | slow / quench | from perfect order "
          f"| vortices after slow cooling | vortices after a quench |")
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for seed in range(seeds):
        c = compare_cooling(name, size=size, seed=seed)
        results.append(c)
        print(f"| {seed} | {c.hot:.2f} | {c.slow:.2f} | {c.quench:.2f} | {c.slow / c.quench:.2f} | {c.ordered:.2f} "
              f"| {c.slow_vortices} | {c.quench_vortices} |", flush=True)
    median = {key: float(np.median([getattr(c, key) for c in results]))
              for key in ("hot", "slow", "quench", "ordered", "slow_vortices", "quench_vortices")}
    ratio = float(np.median([c.slow / c.quench for c in results]))
    print(f"| median | {median['hot']:.2f} | {median['slow']:.2f} | {median['quench']:.2f} | {ratio:.2f} "
          f"| {median['ordered']:.2f} | {median['slow_vortices']:g} | {median['quench_vortices']:g} |")
    return results


def plot(series: dict[str, np.ndarray], out: Path, *, title: str, cooling: CoolingComparison | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = series["time_s"]
    fig, axes = plt.subplots(5, 1, figsize=(11, 11), sharex=True)
    axes[0].plot(t, series["audio_energy"], label="audio energy (0.5 = typical)")
    axes[0].plot(t, series["audio_bass"], label="bass", alpha=0.7)
    axes[0].set_ylabel("music")
    axes[1].plot(t, series["E"], label="field energy E", color="tab:red")
    axes[1].set_ylabel("E")
    twin = axes[1].twinx()
    twin.plot(t, series["T"], label="temperature T", color="tab:orange")
    twin.set_ylabel("T (rad²/s)")
    for ax in axes:
        ax.fill_between(t, 0, 1, where=series["hot"] > 0, transform=ax.get_xaxis_transform(), color="tab:red",
                        alpha=0.08, linewidth=0)
    axes[2].plot(t, series["R"], label="order R", color="tab:green")
    axes[2].plot(t, series["disorder"], label="frequency disorder left by cooling (share)", color="tab:gray", ls="--")
    axes[2].set_ylabel("R, disorder")
    twin2 = axes[2].twinx()
    twin2.plot(t, series["patches"], label="patches", color="tab:purple", alpha=0.8)
    twin2.set_ylabel("patches")
    axes[3].plot(t, series["corr_length"], label="correlation length (cells)", color="tab:brown")
    axes[3].set_ylabel("corr. length")
    if cooling is not None:
        axes[3].axhline(cooling.slow, color="tab:blue", ls="--", lw=1,
                        label=f"after the preset's slow cooling: {cooling.slow:.1f}")
        axes[3].axhline(cooling.quench, color="k", ls=":", lw=1,
                        label=f"after a quench, same {cooling.run_s:.0f} s: {cooling.quench:.1f}")
        axes[3].axhline(cooling.ordered, color="tab:green", ls="-.", lw=1,
                        label=f"from perfect order, same time: {cooling.ordered:.1f}")
    axes[4].plot(t, series["k3"], label="K3 (live)")
    axes[4].plot(t, series["k_sw"], label="K_SW (live)")
    axes[4].plot(t, series["injection"], label="injection gain")
    axes[4].set_ylabel("parameters")
    axes[4].set_xlabel("time (s); red bands: hot phase")
    for ax in (axes[0], axes[3], axes[4]):
        ax.legend(loc="upper right", fontsize=8)
    axes[1].legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)
    axes[2].legend(loc="upper left", fontsize=8)
    twin2.legend(loc="upper right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.plot", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nn-dmt")
    parser.add_argument("--seconds", type=float, default=48.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--audio", type=Path, help="an audio file instead of the demo track")
    parser.add_argument("--out", type=Path, default=Path("annealing.png"))
    parser.add_argument("--table", action="store_true",
                        help="print the trace figures of every preset on the demo track and ballroom_waltz "
                             "(a markdown table) instead of plotting")
    parser.add_argument("--presets", help="with --table: only these presets (comma-separated)")
    parser.add_argument("--cooling-seeds", type=int, metavar="N",
                        help="print the preset's slow cooling vs quench vs perfect order for seeds 0..N−1 "
                             "(from its random start, --size) instead of plotting")
    args = parser.parse_args(argv)
    if args.cooling_seeds:
        cooling_seeds(args.preset, seeds=args.cooling_seeds, size=args.size)
        return 0
    if args.table:
        print("| preset | track | median R | hot share | patches | anti-phase | corr. length | after slow cooling "
              "| after a quench | slow / quench | from perfect order | vortices slow / quench |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        names = args.presets.split(",") if args.presets else [path.stem for path in presets.discover()]
        table(names, [demo_paths()[0], WALTZ],
              seconds=args.seconds, size=args.size, seed=args.seed)
        return 0
    series, theta = _run(args.preset, args.seconds, args.size, args.seed, args.audio)
    cooling = compare_cooling(args.preset, size=args.size, seed=args.seed, theta=theta)
    plot(series, args.out, cooling=cooling,
         title=f"{args.preset} on {args.audio.name if args.audio else 'the demo track'}, {args.size}² grid")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
