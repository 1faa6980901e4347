"""Where the user's files live: config (presets, sessions, bindings), cache, pictures.

platformdirs gives each platform's conventional folders (XDG on Linux, honouring XDG_* variables).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "visualizer"


def user_config_dir() -> Path:
    """The user's config folder: presets/, sessions/, bindings (e.g. ~/.config/visualizer)."""
    return Path(platformdirs.user_config_dir(APP))


def user_cache_dir() -> Path:
    """The cache folder for computed eigenmodes and the like (e.g. ~/.cache/visualizer)."""
    return Path(platformdirs.user_cache_dir(APP))


def pictures_dir() -> Path:
    """Where screenshots go: $XDG_PICTURES_DIR (or the platform's pictures folder)/visualizer."""
    pictures = os.environ.get("XDG_PICTURES_DIR") or platformdirs.user_pictures_dir()
    return Path(pictures) / APP


def discover_toml(folders: list[Path]) -> list[Path]:
    """Every ``*.toml`` in ``folders`` by file stem, sorted; a file in an earlier folder overrides
    one of the same stem in a later folder (the user's folder comes first)."""
    found: dict[str, Path] = {}
    for folder in reversed(folders):
        for p in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            found[p.stem] = p
    return [found[stem] for stem in sorted(found)]


def resolve_toml(name_or_path: str, found: list[Path]) -> Path | None:
    """A path as given (``.toml`` suffix or a separator in it), else the file in ``found`` whose stem
    is ``name_or_path``, else None."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or os.sep in name_or_path:
        return candidate
    return next((p for p in found if p.stem == name_or_path), None)
