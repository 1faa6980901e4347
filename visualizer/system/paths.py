"""Where the user's files live: config (presets, sessions, bindings), cache, pictures.

platformdirs gives each platform's conventional folders (XDG on Linux, honouring XDG_* variables).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

APP = "visualizer"

log = logging.getLogger(__name__)


PACKAGE = Path(__file__).resolve().parents[1]  # the installed visualizer/ folder


def shipped_dir(name: str) -> Path:
    """A data folder that ships with the program ("presets", "assets"): inside the package in a
    wheel install (hatchling force-includes it), beside the package in a source checkout."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


def user_config_dir() -> Path:
    """The user's config folder: presets/, sessions/, bindings (e.g. ~/.config/visualizer)."""
    return Path(platformdirs.user_config_dir(APP))


def user_data_dir() -> Path:
    """Where the user's own records live (the meditation history), e.g. ~/.local/share/visualizer."""
    return Path(platformdirs.user_data_dir(APP))


def user_cache_dir() -> Path:
    """The cache folder for computed eigenmodes and the like (e.g. ~/.cache/visualizer)."""
    return Path(platformdirs.user_cache_dir(APP))


def pictures_dir() -> Path:
    """Where screenshots go: $XDG_PICTURES_DIR (or the platform's pictures folder)/visualizer."""
    pictures = os.environ.get("XDG_PICTURES_DIR") or platformdirs.user_pictures_dir()
    return Path(pictures) / APP


_warned: set[tuple[str, str]] = set()  # (path, why): each problem is logged once per process


def _warn_once(path: Path, why: str, message: str) -> None:
    if (str(path), why) not in _warned:
        _warned.add((str(path), why))
        log.warning("%s", message)


def toml_files(folder: Path, kind: str = "preset") -> list[Path]:
    """The regular ``*.toml`` files in ``folder``, sorted (none if it does not exist). An
    unreadable folder is skipped with a warning; anything not a regular file (a FIFO, a device,
    a folder, a dangling link) is skipped with a warning and never opened (a FIFO would block)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        _warn_once(folder, "folder", f"{kind}s: cannot read the folder {folder} ({e.strerror or e}); skipped: "
                                     f"make it readable (chmod u+rx {folder})")
        return []
    files = []
    for entry in entries:
        if not entry.name.endswith(".toml"):
            continue
        try:
            regular = entry.is_file()  # follows links; False for FIFOs, sockets, devices, folders
        except OSError:
            regular = False
        if regular:
            files.append(Path(entry.path))
        else:
            _warn_once(Path(entry.path), "irregular", f"{kind}s: skipping {entry.path}: not a regular file")
    return files


class TomlCatalogue:
    """Named TOML files (presets, sessions) found in folders, the user's first.

    kind : what they are, for messages ("preset"). folders : returns the folders, user's first.
    error : the exception a missing name raises (one line for the user).
    """

    def __init__(self, kind: str, folders: Callable[[], list[Path]], error: type[Exception]):
        self.kind, self._folders, self._error = kind, folders, error

    def discover(self) -> list[Path]:
        """Every ``*.toml`` by file stem, sorted; a file in an earlier folder overrides one of the
        same stem in a later folder (the user's folder comes first)."""
        found: dict[str, Path] = {}
        for folder in reversed(self._folders()):
            for p in toml_files(folder, self.kind):
                found[p.stem] = p
        return [found[stem] for stem in sorted(found)]

    def resolve(self, name_or_path: str) -> Path:
        """A path as given (``.toml`` suffix or a separator in it), else the file whose stem is
        ``name_or_path``; raises ``error`` naming what is available."""
        candidate = Path(name_or_path)
        if candidate.suffix == ".toml" or os.sep in name_or_path:
            return candidate
        found = self.discover()
        path = next((p for p in found if p.stem == name_or_path), None)
        if path is None:
            names = ", ".join(p.stem for p in found) or "none found"
            raise self._error(f"no {self.kind} named {name_or_path!r}; available: {names} "
                              "(or give a path to a .toml file)")
        return path

    def print_listing(self, describe: Callable[[Path], str], *, width: int) -> None:
        """One entry per file: its stem, then ``describe(path)`` (a load that raises ``error``
        prints BROKEN and why)."""
        for path in self.discover():
            try:
                print(f"{path.stem:{width}s} {describe(path)}")
            except self._error as e:
                print(f"{path.stem:{width}s} BROKEN: {e}")
