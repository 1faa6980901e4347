"""``python -m visualizer.tools.plot``: run a preset headless on the demo track (or a file) and plot
the music beside what the field did: audio energy and bass, the annealer's energy E and
temperature T, the order R and the number of patches, and the routed K3/K_SW.

Needs matplotlib (``pip install -e '.[test]'`` brings it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from visualizer.audio.demo import demo_paths
from visualizer.audio.engine import LockstepAudio
from visualizer.session import MEASURE_EVERY, Session

FPS = 60

SERIES = ("time_s", "audio_energy", "audio_bass", "k3", "k_sw", "injection", "E", "T", "R", "patches", "hot")


def record(*, preset: str = "nn-dmt", seconds: float = 48.0, size: int = 128, seed: int = 0,
           audio_path: Path | None = None) -> dict[str, np.ndarray]:
    """Run the preset headless (audio analysed in lockstep) and record one sample per measurement."""
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
                             a.energy, a.temperature, m.order, m.patches, a.phase == "hot"))
    finally:
        session.close()
    data = np.array(rows, dtype=np.float64)
    return {name: data[:, i] for i, name in enumerate(SERIES)}


def plot(series: dict[str, np.ndarray], out: Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = series["time_s"]
    fig, axes = plt.subplots(4, 1, figsize=(11, 9), sharex=True)
    axes[0].plot(t, series["audio_energy"], label="audio energy (0.5 = typical)")
    axes[0].plot(t, series["audio_bass"], label="bass", alpha=0.7)
    axes[0].set_ylabel("music")
    axes[1].plot(t, series["E"], label="reservoir energy E", color="tab:red")
    axes[1].set_ylabel("E")
    twin = axes[1].twinx()
    twin.plot(t, series["T"], label="temperature T", color="tab:orange")
    twin.set_ylabel("T (rad²/s)")
    for ax in axes:
        ax.fill_between(t, 0, 1, where=series["hot"] > 0, transform=ax.get_xaxis_transform(), color="tab:red",
                        alpha=0.08, linewidth=0)
    axes[2].plot(t, series["R"], label="order R", color="tab:green")
    axes[2].set_ylabel("R")
    twin2 = axes[2].twinx()
    twin2.plot(t, series["patches"], label="patches", color="tab:purple", alpha=0.8)
    twin2.set_ylabel("patches")
    axes[3].plot(t, series["k3"], label="K3 (live)")
    axes[3].plot(t, series["k_sw"], label="K_SW (live)")
    axes[3].plot(t, series["injection"], label="injection gain")
    axes[3].set_ylabel("parameters")
    axes[3].set_xlabel("time (s); red bands: hot phase")
    for ax in (axes[0], axes[3]):
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
    parser = argparse.ArgumentParser(prog="python -m visualizer.tools.plot", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nn-dmt")
    parser.add_argument("--seconds", type=float, default=48.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--audio", type=Path, help="an audio file instead of the demo track")
    parser.add_argument("--out", type=Path, default=Path("annealing.png"))
    args = parser.parse_args(argv)
    series = record(preset=args.preset, seconds=args.seconds, size=args.size, audio_path=args.audio)
    plot(series, args.out, title=f"{args.preset} on {args.audio.name if args.audio else 'the demo track'}, "
                                 f"{args.size}² grid")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
