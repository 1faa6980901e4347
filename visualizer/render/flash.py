"""Photosensitive safety: at most 3 large-area luminance flashes per second on the rendered frames.

WCAG 2.3.1 (general flash threshold, after ITU-R BT.1702): a *flash* is a pair of opposing
changes in relative luminance of 10 % or more of the maximum, where the darker image is below
0.80; content must not flash more than three times in any one-second period over a large area.
Here the frame is divided into a grid of cells (`MeasureConfig`, 36 rows by default, each cell's
relative luminance the mean of 4×4 sampled pixels, linear light). Each cell tracks its last
luminance extreme; a cell *transition* is a swing of ≥ 0.10 against its current trend (the
darker side < 0.80). A frame *transition* is one in which cells covering at least a quarter of
the frame make a transition in the same direction (WCAG's "large area" stand-in). A flash is two
opposing transitions, so allowing at most 6 frame transitions in any 1 s window allows at most 3
flashes.

When a frame would make a 7th transition inside the window, `FlashLimiter.apply` blends it, in
linear light, toward the previous output (the previous frame's cell colours, bilinearly
interpolated) by the largest amount that keeps it from being a transition. Slow changes never
trip it: only swings ≥ 0.10 that reverse a trend count, at most 6 a second.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from visualizer.system.threads import kernel_threads

log = logging.getLogger(__name__)

LUMA = (0.2126, 0.7152, 0.0722)  # linear sRGB → relative luminance (ITU-R BT.709)


@dataclass(frozen=True)
class FlashLimitConfig:
    """Thresholds of the flash limiter (WCAG 2.3.1 general flash threshold by default).

    max_flashes : flashes allowed in any window of ``window_s`` seconds.
    swing : change of relative luminance (0..1) that counts as a transition.
    darker_below : a transition counts only if its darker side is below this luminance.
    area : fraction of the frame whose cells must swing together for a frame transition.
    grid_rows : measurement cells down the frame (columns follow the aspect).
    """

    max_flashes: int = 3
    window_s: float = 1.0
    swing: float = 0.10
    darker_below: float = 0.80
    area: float = 0.25
    grid_rows: int = 36

    def __post_init__(self) -> None:
        if self.max_flashes < 1 or self.window_s <= 0 or not 0 < self.swing < 1 or not 0 < self.area <= 1:
            raise ValueError(f"invalid flash limit {self}")


WCAG_FLASH_LIMIT = FlashLimitConfig()


def _srgb_to_linear_table() -> np.ndarray:
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


_ENCODE_STEPS = 4096


def _linear_to_srgb_table() -> np.ndarray:
    v = np.arange(_ENCODE_STEPS + 1) / _ENCODE_STEPS
    return np.round(255 * np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)).astype(np.uint32)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def measure_cells(rows, shifts, to_linear, sample_y, sample_x, cell_rgb, cell_luma):
    """Mean linear RGB and relative luminance of each cell from sampled pixels.

    rows : uint32 (h, w) packed pixels; shifts : int64 (3,) bit shifts of R, G, B.
    sample_y : int (gh, k) pixel rows sampled in each cell row; sample_x : int (gw, k) columns.
    cell_rgb : float32 (gh, gw, 3) out; cell_luma : float32 (gh, gw) out.
    """
    gh, gw = cell_luma.shape
    k = sample_y.shape[1] * sample_x.shape[1]
    for cy in prange(gh):
        for cx in range(gw):
            r = g = b = np.float32(0.0)
            for y in sample_y[cy]:
                row = rows[y]
                for x in sample_x[cx]:
                    p = row[x]
                    r += to_linear[(p >> shifts[0]) & 255]
                    g += to_linear[(p >> shifts[1]) & 255]
                    b += to_linear[(p >> shifts[2]) & 255]
            r, g, b = r / k, g / k, b / k
            cell_rgb[cy, cx, 0], cell_rgb[cy, cx, 1], cell_rgb[cy, cx, 2] = r, g, b
            cell_luma[cy, cx] = np.float32(LUMA[0]) * r + np.float32(LUMA[1]) * g + np.float32(LUMA[2]) * b


@njit(cache=True, nogil=True)
def cell_transitions(luma, extreme, trend, swing, darker_below, commit):
    """Count cells whose luminance ``luma`` makes a rising / falling transition.

    extreme, trend : float32, int8 (gh, gw) per-cell state (last extreme, +1 rising, −1 falling,
    0 unknown); updated in place when ``commit``. Returns (rising cells, falling cells).
    """
    rising = falling = 0
    for i in range(luma.size):
        v, e, t = luma.flat[i], extreme.flat[i], trend.flat[i]
        up = t <= 0 and v - e >= swing and e < darker_below
        down = t >= 0 and e - v >= swing and v < darker_below
        rising += up
        falling += down
        if commit:
            if up or down:
                extreme.flat[i], trend.flat[i] = v, 1 if up else -1
            elif (t > 0 and v > e) or (t < 0 and v < e):
                extreme.flat[i] = v  # the swing goes on: move the extreme with it
    return rising, falling


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def blend_toward(rows, shifts, to_linear, to_srgb, previous_rgb, cell_h, cell_w, keep):
    """out = keep·previous + (1 − keep)·current, per pixel in linear light.

    previous_rgb : float32 (gh, gw, 3) linear cell colours of the previous output, interpolated
    bilinearly between cell centres (cell_h × cell_w pixels per cell).
    """
    gh, gw = previous_rgb.shape[0], previous_rgb.shape[1]
    steps = np.float32(to_srgb.shape[0] - 1)
    alpha_bits = ~((np.uint32(255) << shifts[0]) | (np.uint32(255) << shifts[1]) | (np.uint32(255) << shifts[2]))
    for y in prange(rows.shape[0]):
        v = min(max((y + np.float32(0.5)) / cell_h - np.float32(0.5), np.float32(0.0)), np.float32(gh - 1))
        y0 = np.int64(v)
        y1, wy = min(y0 + 1, gh - 1), v - y0
        row = rows[y]
        for x in range(rows.shape[1]):
            u = min(max((x + np.float32(0.5)) / cell_w - np.float32(0.5), np.float32(0.0)), np.float32(gw - 1))
            x0 = np.int64(u)
            x1, wx = min(x0 + 1, gw - 1), u - x0
            p = row[x]
            out = p & alpha_bits
            for c in range(3):
                prev = ((previous_rgb[y0, x0, c] * (1 - wx) + previous_rgb[y0, x1, c] * wx) * (1 - wy)
                        + (previous_rgb[y1, x0, c] * (1 - wx) + previous_rgb[y1, x1, c] * wx) * wy)
                lin = keep * prev + (1 - keep) * to_linear[(p >> shifts[c]) & 255]
                out |= to_srgb[np.int64(min(max(lin, np.float32(0.0)), np.float32(1.0)) * steps + np.float32(0.5))] << shifts[c]
            row[x] = out


class FlashLimiter:
    """Keeps rendered frames to at most ``max_flashes`` large-area flashes per ``window_s``.

    Call `apply` once per frame on the finished field picture (before any overlay); it measures
    the frame, and if the frame would start one flash too many, blends it toward the previous
    output in place.
    """

    def __init__(self, config: FlashLimitConfig = WCAG_FLASH_LIMIT):
        self.config = config
        self._to_linear = _srgb_to_linear_table()
        self._to_srgb = _linear_to_srgb_table()
        self._shape: tuple[int, int] | None = None
        self._transitions: collections.deque[float] = collections.deque()
        self.limited_frames = 0  # frames blended so far

    def _reset(self, shape: tuple[int, int]) -> None:
        h, w = shape
        gh = max(1, min(self.config.grid_rows, h))
        gw = max(1, min(round(gh * w / h), w))
        self._shape = shape
        self._cell_h, self._cell_w = h / gh, w / gw
        per_cell = 4
        offsets = (np.arange(per_cell) + 0.5) / per_cell
        self._sample_y = np.minimum(((np.arange(gh)[:, None] + offsets) * self._cell_h).astype(np.int64), h - 1)
        self._sample_x = np.minimum(((np.arange(gw)[:, None] + offsets) * self._cell_w).astype(np.int64), w - 1)
        self._rgb = np.zeros((gh, gw, 3), np.float32)
        self._luma = np.zeros((gh, gw), np.float32)
        self._previous_rgb = np.zeros_like(self._rgb)
        self._previous_luma = np.zeros_like(self._luma)
        self._extreme = np.zeros_like(self._luma)
        self._trend = np.zeros((gh, gw), np.int8)
        self._first = True
        self._transitions.clear()

    def _frame_transitions(self, luma: np.ndarray, commit: bool) -> int:
        """Frame-level transitions (0, 1 or 2: both directions) that ``luma`` would make."""
        c = self.config
        rising, falling = cell_transitions(luma, self._extreme, self._trend, np.float32(c.swing),
                                           np.float32(c.darker_below), commit)
        need = c.area * luma.size
        return int(rising >= need) + int(falling >= need)

    def apply(self, rows: np.ndarray, *, shifts: tuple[int, int, int], time_s: float) -> float:
        """Limit flashes in the frame ``rows`` (uint32 (h, w) packed pixels) in place.

        shifts : bit positions of R, G, B in a pixel (pygame ``Surface.get_shifts()[:3]``).
        time_s : the frame's presentation time (s); the window slides over these times.
        Returns the share of the new frame kept (1.0 = untouched).
        """
        if rows.shape != self._shape:
            self._reset(rows.shape)
        shifts_arr = np.asarray(shifts, np.int64)
        self._measure(rows, shifts_arr)
        if self._first:
            self._first = False
            self._extreme[...] = self._luma
            self._remember()
            return 1.0
        window = self._transitions
        while window and window[0] <= time_s - self.config.window_s:
            window.popleft()
        budget = 2 * self.config.max_flashes - len(window)
        kept = 1.0
        if self._frame_transitions(self._luma, commit=False) > budget:
            kept = self._largest_safe_share(budget)
            blend_toward(rows, shifts_arr, self._to_linear, self._to_srgb, self._previous_rgb,
                         np.float32(self._cell_h), np.float32(self._cell_w), np.float32(1.0 - kept))
            self._measure(rows, shifts_arr)
            self.limited_frames += 1
            if self.limited_frames == 1:
                log.info("flash limiter engaged: more than %d flashes in %.1f s", self.config.max_flashes, self.config.window_s)
        window.extend([time_s] * self._frame_transitions(self._luma, commit=True))
        self._remember()
        return kept

    def _measure(self, rows: np.ndarray, shifts: np.ndarray) -> None:
        """Each cell's linear RGB and luminance from its 16 sampled pixels (about 37 000 samples at
        1080p: on this thread alone, since waking another costs more; see ``visualizer.system.threads``)."""
        with kernel_threads(False):
            measure_cells(rows, shifts, self._to_linear, self._sample_y, self._sample_x, self._rgb, self._luma)

    def _largest_safe_share(self, budget: int) -> float:
        """Largest share of the new frame (bisection on the cell luminances) within ``budget``."""
        lo, hi = 0.0, 1.0
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            luma = (self._previous_luma + np.float32(mid) * (self._luma - self._previous_luma)).astype(np.float32)
            if self._frame_transitions(luma, commit=False) > budget:
                hi = mid
            else:
                lo = mid
        return 0.9 * lo  # the per-pixel blend only approximates the cell means: keep a margin

    def _remember(self) -> None:
        self._previous_rgb[...] = self._rgb
        self._previous_luma[...] = self._luma
