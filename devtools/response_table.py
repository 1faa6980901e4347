"""Baseline response figures for presets over our own and the shared music.

    python -m devtools.response_table --material ../material \\
        [--presets 5meo nn-dmt mosaic spiral-garden] [--seconds 30] [--json]

For each preset and each track — the generated music (devtools/make_music.py: DEV, HOLDOUT, UNSEEN
from MATERIAL/split.json, each with its .beats), the shared recordings (ballroom_waltz.wav and
asap_dev_*.flac in ../shared/data/beats with their .beats) and the demo track (assets/demo.flac,
beats from assets/demo.json) — renders with ``visualizer.offline.response.measure`` (annotated
beats, pink-noise control) and runs ``python -m visualizer trace`` for the annealing phases.
Prints one row per preset and track (beat response, the control's beat response at the same
beats, loudness r, two-songs r (song vs control), worst large flashes per second, share of trace
samples "hot", whether one full hot → cooling → cold cycle happened), then per-preset medians per
split. Progress goes to stderr. Runs one render at a time; run it under ``nice``.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from visualizer.offline import response as R

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PRESETS = ["5meo", "nn-dmt", "mosaic", "spiral-garden"]
MATERIAL_SPLITS = ["dev", "holdout", "unseen"]  # as split.json names them
SPLITS = [*MATERIAL_SPLITS, "shared", "demo"]
FIGURES = [("beat_response", "beat resp"), ("control_beat_response", "ctrl beat"),
           ("loudness_r", "loud r"), ("control_loudness_r", "ctrl loud r"),
           ("two_songs_r", "2-songs r"), ("flashes_per_s_max", "flash/s"), ("hot_share", "hot")]
COOLED = 0.02  # a cooling run ended cold when its last sample's T is at most this share of the hot T


def tracks(material: str, shared: str) -> list[tuple[str, str, str, str]]:
    """[(split, name, audio path, beats path)] in report order."""
    out = []
    with open(os.path.join(material, "split.json")) as fh:
        split = json.load(fh)
    for s in MATERIAL_SPLITS:
        for name in split.get(s, []):
            out.append((s, name, os.path.join(material, name + ".flac"),
                        os.path.join(material, name + ".beats")))
    waltz = os.path.join(shared, "ballroom_waltz.wav")
    if os.path.exists(waltz):
        out.append(("shared", "ballroom_waltz", waltz, os.path.join(shared, "ballroom_waltz.beats")))
    for f in sorted(glob.glob(os.path.join(shared, "asap_dev_*.flac"))):
        beats = f[:-5] + ".beats"
        if os.path.exists(beats):
            out.append(("shared", os.path.basename(f)[:-5], f, beats))
    demo, demo_json = os.path.join(ROOT, "assets", "demo.flac"), os.path.join(ROOT, "assets", "demo.json")
    if os.path.exists(demo) and os.path.exists(demo_json):
        with open(demo_json) as fh:
            if json.load(fh).get("beats"):
                out.append(("demo", "demo", demo, demo_json))
    return out


def trace_phases(song: str, preset: str, seconds: float, seed: int = 0) -> dict:
    """Share of trace samples in phase "hot" and whether a full cycle happened: hot, then a cooling
    that ends cold (T at most COOLED of the hot T on its last sample, or followed by cold or heating)."""
    p = subprocess.run([sys.executable, "-m", "visualizer", "trace", song, "--preset", preset,
                        "--seconds", f"{seconds:g}", "--seed", str(seed), "--json"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"trace failed: {p.stderr[-2000:]}")
    samples = json.loads(p.stdout)["samples"]
    phases = [s["phase"] for s in samples]
    runs: list[tuple[str, list[float]]] = []  # (phase, its samples' T)
    for s in samples:
        if not runs or runs[-1][0] != s["phase"]:
            runs.append((s["phase"], []))
        runs[-1][1].append(s["T"])
    # at 10 samples a second a short cold run can fall between two samples (cooling followed by
    # heating, which only follows cold), and a cooling schedule that ran out can heat again in the
    # same frame (cooling followed by hot): its last sample's T tells it had cooled
    cycle = any(runs[i][0] == "hot" and runs[i + 1][0] == "cooling"
                and (i + 2 < len(runs) and runs[i + 2][0] in ("cold", "heating")
                     or runs[i + 1][1][-1] <= COOLED * max(runs[i][1]))
                for i in range(len(runs) - 1))
    return {"hot_share": float(np.mean([ph == "hot" for ph in phases])) if phases else float("nan"),
            "cycle": bool(cycle), "phase_runs": [r[0] for r in runs]}


def code_fingerprint() -> str:
    """sha1 (12 hex digits) of the program's code, model and presets: visualizer/**/*.py, *.npz
    and presets/*.toml (no git here: tells whether the code changed during a run)."""
    h = hashlib.sha1()
    files = sorted(glob.glob(os.path.join(ROOT, "visualizer", "**", "*.py"), recursive=True)
                   + glob.glob(os.path.join(ROOT, "visualizer", "**", "*.npz"), recursive=True)
                   + glob.glob(os.path.join(ROOT, "presets", "**", "*.toml"), recursive=True))
    for f in files:
        h.update(os.path.relpath(f, ROOT).encode())
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:12]


def fmt(v, width: int = 9) -> str:
    if isinstance(v, bool):
        return f"{'yes' if v else 'no':>{width}s}"
    if isinstance(v, (int, np.integer)):
        return f"{v:>{width}d}"
    if v is None or not np.isfinite(v):
        return f"{'nan':>{width}s}"
    return f"{v:>{width}.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m devtools.response_table",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--material", required=True, help="folder written by devtools.make_music")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "beats"),
                    help="shared recordings with .beats (default ../shared/data/beats)")
    ap.add_argument("--presets", nargs="+", default=DEFAULT_PRESETS)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--only", nargs="*", help="only these track names")
    ap.add_argument("--no-trace", action="store_true", help="skip the annealing trace")
    ap.add_argument("--json", action="store_true", help="print the rows and medians as JSON")
    ap.add_argument("--json-out", metavar="FILE", help="also write the rows and medians as JSON here")
    a = ap.parse_args(argv)
    todo = [t for t in tracks(a.material, a.shared) if not a.only or t[1] in a.only]
    rows = []
    t_start = time.time()
    code_start = code_fingerprint()
    with tempfile.TemporaryDirectory() as cache:
        for preset in a.presets:
            for split, name, audio, beats_path in todo:
                t0 = time.time()
                m = R.measure(audio, preset=preset, beats_s=R.read_beats(beats_path), seconds=a.seconds,
                              cache_dir=cache)
                row = {"preset": preset, "track": name, "split": split, "seconds": m["seconds"],
                       "beats": m["beats"],
                       "beat_response": m["song"]["beat_response"],
                       "control_beat_response": m["control"]["beat_response"],
                       "loudness_r": m["song"]["loudness_r"],
                       "loudness_lag_s": m["song"]["loudness_lag_s"],
                       "control_loudness_r": m["control"]["loudness_r"],
                       "two_songs_r": m["two_songs_r"],
                       "flashes_per_s_max": m["song"]["flashes_per_s_max"]}
                if not a.no_trace:
                    tr = trace_phases(audio, preset, m["seconds"])
                    row["hot_share"], row["cycle"] = tr["hot_share"], tr["cycle"]
                    row["phase_runs"] = "→".join(tr["phase_runs"])
                rows.append(row)
                print(f"[{time.time() - t_start:6.0f} s] {preset:14s} {name:22s} "
                      f"{time.time() - t0:5.1f} s", file=sys.stderr, flush=True)

    medians = []
    for preset in a.presets:
        for split in SPLITS:
            sel = [r for r in rows if r["preset"] == preset and r["split"] == split]
            if not sel:
                continue
            med = {"preset": preset, "split": split, "n": len(sel)}
            for key, _ in FIGURES:
                vals = [r[key] for r in sel if key in r and r[key] is not None and np.isfinite(r[key])]
                med[key] = float(np.median(vals)) if vals else float("nan")
            if not a.no_trace:
                med["cycles"] = sum(bool(r.get("cycle")) for r in sel)
            medians.append(med)

    code_end = code_fingerprint()
    result = {"seconds": a.seconds, "presets": a.presets, "rows": rows, "medians": medians,
              "code_at_start": code_start, "code_at_end": code_end}
    if a.json_out:
        with open(a.json_out, "w") as fh:
            json.dump(result, fh, indent=1, default=float)
    if a.json:
        print(json.dumps(result, indent=1, default=float))
        return 0

    print(f"code fingerprint at start {code_start}, at end {code_end}"
          + ("" if code_start == code_end else "  (THE CODE CHANGED DURING THE RUN)"))
    keys = [k for k, _ in FIGURES if k != "hot_share" or not a.no_trace]
    heads = [h for k, h in FIGURES if k in keys]
    for split in SPLITS:
        sel = [r for r in rows if r["split"] == split]
        if not sel:
            continue
        print(f"\n### {split}\n")
        head = f"| {'preset':14s} | {'track':22s} | " + " | ".join(f"{h:>9s}" for h in heads)
        head += " | cycle |" if not a.no_trace else " |"
        print(head)
        print("|" + "|".join("-" * (len(c) + 0) for c in head.strip("|").split("|")) + "|")
        for r in sel:
            line = f"| {r['preset']:14s} | {r['track']:22s} | " + " | ".join(fmt(r[k], max(9, len(h))) for k, h in zip(keys, heads))
            line += f" | {'yes' if r.get('cycle') else 'no':>5s} |" if not a.no_trace else " |"
            print(line)
    print("\n### medians per preset and split\n")
    head = f"| {'preset':14s} | {'split':8s} | {'n':>2s} | " + " | ".join(f"{h:>9s}" for h in heads)
    head += " | cycles |" if not a.no_trace else " |"
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.strip("|").split("|")) + "|")
    for m in medians:
        line = f"| {m['preset']:14s} | {m['split']:8s} | {m['n']:2d} | " + " | ".join(fmt(m[k], max(9, len(h))) for k, h in zip(keys, heads))
        line += f" | {m['cycles']:>2d}/{m['n']:<3d} |" if not a.no_trace else " |"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
