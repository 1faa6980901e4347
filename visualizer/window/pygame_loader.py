"""The one place the program imports pygame: ``from visualizer.window.pygame_loader import pygame``.

pygame's ``pkgdata`` imports setuptools' ``pkg_resources`` only to look up its own font files,
which it finds from its own directory without it; importing ``pkg_resources`` scans every
installed distribution (0.08 s on an idle machine, 0.5 s under load: most of the start-up budget). It
is hidden while pygame is imported, and importable again afterwards. The support prompt pygame
prints on import is switched off (stdout carries tables and JSON).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
_hide = "pkg_resources" not in sys.modules
if _hide:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # "import pkg_resources" raises ImportError
try:
    import pygame  # noqa: E402
finally:
    if _hide:
        del sys.modules["pkg_resources"]

__all__ = ["pygame"]
