"""Where the built-in demo track lives (``python -m devtools.make_demo`` writes it)."""

from __future__ import annotations

from pathlib import Path

from visualizer.system.paths import shipped_dir


def demo_paths() -> tuple[Path, Path]:
    """Where the demo track and its ground truth live (audio, json)."""
    assets = shipped_dir("assets")
    return assets / "demo.flac", assets / "demo.json"
