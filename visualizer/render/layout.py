"""Screen geometry without pygame: the field grid that fills a screen edge to edge."""

from __future__ import annotations

import math

MIN_SIDE = 10  # ≥ 9 (the field's own minimum for distance-4 neighbourhoods), rounded up to even


def grid_for_screen(screen_size: tuple[int, int], cells: int) -> tuple[int, int]:
    """The grid (height, width) with about ``cells`` cells whose aspect follows the screen.

    Parameters
    ----------
    screen_size : (width_px, height_px) of the window or screen.
    cells : wanted number of cells (e.g. 256² = 65536).

    Both sides are even (a one-cell checkerboard closes on a torus) and at least 10, so the
    cells come out square on the screen to within one cell per side.
    """
    width_px, height_px = screen_size
    if width_px <= 0 or height_px <= 0:
        raise ValueError(f"screen size must be positive, got {width_px}×{height_px}")
    if cells <= 0:
        raise ValueError(f"cells must be positive, got {cells}")
    aspect = width_px / height_px
    height = math.sqrt(cells / aspect)

    def even(x: float) -> int:
        return max(MIN_SIDE, 2 * round(x / 2))

    rows = even(height)
    return rows, even(rows * aspect)
