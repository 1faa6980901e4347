"""Where the built-in demo track lives (``python -m visualizer.tools.make_demo`` writes it)."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"  # wheel: visualizer/assets
if not ASSETS.is_dir():
    ASSETS = Path(__file__).resolve().parents[2] / "assets"  # source checkout


def demo_paths() -> tuple[Path, Path]:
    """Where the demo track and its ground truth live (audio, json)."""
    return ASSETS / "demo.flac", ASSETS / "demo.json"
