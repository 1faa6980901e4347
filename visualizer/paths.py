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
