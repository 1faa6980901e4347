"""Old import paths that scripts may use, kept working until the next release.

The package was split into layers (docs/architecture.md); ``import visualizer.session`` and the
other paths the 0.2 README documented now load the module from its new place, with a
DeprecationWarning naming it. One finder on ``sys.meta_path``; nothing is imported until asked.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# old prefix → new prefix (a prefix covers its submodules: visualizer.sim.field → visualizer.engine.sim.field)
MOVED = {
    "visualizer.session": "visualizer.engine.session",
    "visualizer.params": "visualizer.engine.params",
    "visualizer.presets": "visualizer.engine.presets",
    "visualizer.audio": "visualizer.engine.audio",
    "visualizer.sim": "visualizer.engine.sim",
}


def new_name(old: str) -> str | None:
    """The module's new name, or None if ``old`` did not move."""
    for prefix, target in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix):]
    return None


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Resolves an old module name to the already-importable new module (the same object)."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = new_name(fullname)
        if target_name is None:
            return None
        warnings.warn(f"{fullname} moved to {target_name}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return importlib.util.spec_from_loader(fullname, _Alias(target_name))

def install() -> None:
    """Put the finder first, so ``visualizer.sim.field`` is never loaded a second time from the
    aliased package's folder under its old name (two copies of every class)."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
