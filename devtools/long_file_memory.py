"""Memory of the program playing a short and a very long file (issue 30: a 3-hour file must stay
within 200 MB of a 3-minute one).

    python -m devtools.long_file_memory [--hours 3] [--seconds 40] [--json]

Writes a 3-minute and a ``--hours`` WAV (quiet noise, mono 16-bit at ``--sr`` Hz) to a temporary
folder, then runs ``python -m visualizer --play FILE`` on each, twice: in the window (SDL dummy
driver, sound through a private PulseAudio null sink: the real playback path) and ``--headless``
(the file fed in step with the frames). It samples the child's resident memory (VmRSS from
/proc) every 0.25 s for ``--seconds`` and prints a table: the RSS after 5 s, the peak, and the
peak above the 3-minute file's in the same mode (the figure the issue asks for).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from devtools.faults_reliability import Started, environment, long_wav
from devtools.pulse_server import PulseServer

SAMPLE_S = 0.25
SETTLED_S = 5.0


def rss_mb(pid: int) -> float | None:
    """Resident set size of process ``pid`` (MB), None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(path: Path, *, mode: str, seconds: float, folder: Path, pulse: str) -> dict:
    """Play ``path`` in ``mode`` ("window" or "headless") for ``seconds``; RSS samples (MB)."""
    args = [sys.executable, "-m", "visualizer", "--play", str(path), "--size", "320x180"]
    if mode == "headless":
        args.append("--headless")
    child = Started(args, env=environment(PULSE_SERVER=pulse), folder=folder)
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    try:
        while (now := time.monotonic() - start) < seconds:
            value = rss_mb(child.process.pid)
            if value is None or child.process.poll() is not None:
                raise RuntimeError(f"visualizer --play {path.name} ({mode}) ended early: {child.stderr.strip()[-300:]}")
            samples.append((now, value))
            time.sleep(SAMPLE_S)
    finally:
        child.close()
    settled = next((mb for t, mb in samples if t >= SETTLED_S), samples[-1][1])
    return {"settled_mb": round(settled, 1), "peak_mb": round(max(mb for _, mb in samples), 1),
            "last_mb": round(samples[-1][1], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.long_file_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0, help="length of the long file (h)")
    parser.add_argument("--seconds", type=float, default=40.0, help="how long each run is watched (s)")
    parser.add_argument("--sr", type=int, default=16000, help="the files' sample rate (Hz)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, PulseServer(Path(tmp) / "pulse") as pulse:
        folder = Path(tmp)
        files = {"3 min": long_wav(folder / "short.wav", minutes=3.0, sr=args.sr),
                 f"{args.hours:g} h": long_wav(folder / "long.wav", minutes=60.0 * args.hours, sr=args.sr)}
        for mode in ("window", "headless"):
            baseline = None
            for label, path in files.items():
                result = run(path, mode=mode, seconds=args.seconds, folder=folder, pulse=pulse.address)
                baseline = result["peak_mb"] if baseline is None else baseline
                rows.append({"mode": mode, "file": label, "file_mb": round(path.stat().st_size / 2**20),
                             **result, "peak_above_short_mb": round(result["peak_mb"] - baseline, 1)})
    if args.json:
        print(json.dumps({"seconds": args.seconds, "sr": args.sr, "rows": rows}, indent=2))
        return 0
    print(f"RSS of `visualizer --play FILE` over {args.seconds:g} s (MB; mono 16-bit at {args.sr} Hz)")
    print(f"{'mode':<9} {'file':<6} {'on disk':>8} {'after 5 s':>10} {'peak':>7} {'last':>7} {'peak − 3 min':>13}")
    for r in rows:
        print(f"{r['mode']:<9} {r['file']:<6} {r['file_mb']:>8} {r['settled_mb']:>10} {r['peak_mb']:>7} "
              f"{r['last_mb']:>7} {r['peak_above_short_mb']:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
