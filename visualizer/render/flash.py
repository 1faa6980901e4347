"""Photosensitive safety: at most 3 flashes per second in any 10° of view, measured on the output.

WCAG 2.3.1 (general flash and red flash thresholds, after ITU-R BT.1702): a *flash* is a pair of
opposing transitions, either in relative luminance by 10 % or more of the maximum where the
darker side is below 0.80, or involving a saturated red (one side with R/(R+G+B) ≥ 0.8 and the
two sides more than 0.2 apart in CIE 1976 u′v′); content must not flash more than three times in
any one-second period over 25 % of any 10° visual field (at the usual viewing distance a third of
the screen's width and height: 341×256 px on 1024×768).

The frame is measured on a grid of cells (`FlashLimitConfig.grid_rows` rows), 4×4 pixels sampled
in each, and each sampled pixel is a *cell* of its own (a cell's mean would hide a dark pixel's
flash inside a bright neighbourhood: a strobe over a textured field flashed 4 times a second per
pixel while the means stayed within 3). Each cell tracks its own transitions, however many frames
one takes: its last luminance extreme (a swing of ≥ 0.10 against the trend is a transition) and
its last chromaticity (a move of > 0.2 to or from saturated red is one). A cell *over the limit*
has made more than six transitions in the last second (a 4th flash); cells need not change in the
same frame (a staggered or slow strobe is counted all the same). A frame would flash too much when
its transitions bring the cells over the limit to 25 % of any 10°-field window of the grid.

Such a frame is blended by `FlashLimiter.apply`, pixel for pixel in linear light, toward the
previous output by the largest share that keeps it within the limit, checked again on the blended
pixels (and held on the previous output if that still fails). Slow changes and small areas never
trip it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from visualizer.system.threads import PARALLEL_FROM_PIXELS, kernel_threads

log = logging.getLogger(__name__)

LUMA = (0.2126, 0.7152, 0.0722)  # linear sRGB → relative luminance (ITU-R BT.709)
XYZ_X = (0.4124, 0.3576, 0.1805)  # linear sRGB → CIE X
XYZ_Z = (0.0193, 0.1192, 0.9505)  # linear sRGB → CIE Z
RED_FLOOR = 0.02  # linear R below which a "red" is too dark to count (noise in near-black cells)


@dataclass(frozen=True)
class FlashLimitConfig:
    """Thresholds of the flash limiter (WCAG 2.3.1 general and red flash thresholds by default).

    max_flashes : flashes allowed in any window of ``window_s`` seconds.
    swing : change of relative luminance (0..1) that counts as a transition.
    darker_below : a luminance transition counts only if its darker side is below this luminance.
    red_ratio : R/(R+G+B) (linear) from which a colour is a saturated red.
    red_shift : CIE 1976 u′v′ distance that makes a change to or from saturated red a transition.
    area : fraction of a 10° field that flashing cells must cover for the frame to flash.
    field : the 10° field's share of the screen's width and of its height.
    grid_rows : measurement cells down the frame (columns follow the aspect).
    """

    max_flashes: int = 3
    window_s: float = 1.0
    swing: float = 0.10
    darker_below: float = 0.80
    red_ratio: float = 0.8
    red_shift: float = 0.2
    area: float = 0.25
    field: float = 1 / 3
    grid_rows: int = 36

    def __post_init__(self) -> None:
        if (self.max_flashes < 1 or self.window_s <= 0 or not 0 < self.swing < 1 or not 0 < self.area <= 1
                or not 0 < self.field <= 1 or not 0 < self.red_ratio <= 1 or self.red_shift <= 0):
            raise ValueError(f"invalid flash limit {self}")


WCAG_FLASH_LIMIT = FlashLimitConfig()


def _srgb_to_linear_table() -> np.ndarray:
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


_ENCODE_STEPS = 4096


def _linear_to_srgb_table() -> np.ndarray:
    v = np.arange(_ENCODE_STEPS + 1) / _ENCODE_STEPS
    return np.round(255 * np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)).astype(np.uint32)


@njit(inline="always")
def _luma(r, g, b):
    """Relative luminance of a linear sRGB colour (float32)."""
    return np.float32(LUMA[0]) * r + np.float32(LUMA[1]) * g + np.float32(LUMA[2]) * b


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def measure_cells(rows, shifts, to_linear, sample_y, sample_x, cell_rgb, cell_luma):
    """Linear RGB and relative luminance of each sampled pixel (a cell).

    rows : uint32 (h, w) packed pixels; shifts : int64 (3,) bit shifts of R, G, B.
    sample_y : int (gh,) pixel rows sampled; sample_x : int (gw,) columns.
    cell_rgb : float32 (gh, gw, 3) out; cell_luma : float32 (gh, gw) out.
    """
    gh, gw = cell_luma.shape
    for cy in prange(gh):
        row = rows[sample_y[cy]]
        for cx in range(gw):
            p = row[sample_x[cx]]
            r = to_linear[(p >> shifts[0]) & 255]
            g = to_linear[(p >> shifts[1]) & 255]
            b = to_linear[(p >> shifts[2]) & 255]
            cell_rgb[cy, cx, 0], cell_rgb[cy, cx, 1], cell_rgb[cy, cx, 2] = r, g, b
            cell_luma[cy, cx] = _luma(r, g, b)


@njit(cache=True, nogil=True)
def blend_table(to_linear, to_srgb, keep, out):
    """out[q·256 + p] = the 8-bit sRGB of keep·q + (1 − keep)·p in linear light, for every pair of 8-bit
    channel values q (previous output) and p (new frame): one lookup a channel in `blend_toward`.

    to_linear : float32 (256,); to_srgb : uint32 (steps + 1,) linear → 8-bit; out : uint8 (65 536,).
    """
    steps = np.float32(to_srgb.shape[0] - 1)
    for q in range(256):
        for p in range(256):
            lin = keep * to_linear[q] + (1 - keep) * to_linear[p]
            out[q * 256 + p] = to_srgb[np.int64(min(lin, np.float32(1.0)) * steps + np.float32(0.5))]


@njit(parallel=True, cache=True, nogil=True)
def blend_toward(rows, previous, shifts, table):
    """rows = the blend of ``previous`` and ``rows`` that ``table`` (`blend_table`) holds, per channel.

    rows, previous : uint32 (h, w) packed pixels (the new frame, in place; the previous output).
    """
    s0, s1, s2 = np.uint32(shifts[0]), np.uint32(shifts[1]), np.uint32(shifts[2])
    m, eight = np.uint32(255), np.uint32(8)
    alpha_bits = ~((m << s0) | (m << s1) | (m << s2))
    for y in prange(rows.shape[0]):
        row, before = rows[y], previous[y]
        for x in range(rows.shape[1]):
            p, q = row[x], before[x]
            row[x] = ((p & alpha_bits)
                      | (np.uint32(table[(((q >> s0) & m) << eight) | ((p >> s0) & m)]) << s0)
                      | (np.uint32(table[(((q >> s1) & m) << eight) | ((p >> s1) & m)]) << s1)
                      | (np.uint32(table[(((q >> s2) & m) << eight) | ((p >> s2) & m)]) << s2))


@njit(inline="always")
def _uv(r, g, b, v):
    """CIE 1976 u′v′ of the linear colour (r, g, b) of luminance v; black is (0, 0), far from red, so
    red ↔ black is a red transition."""
    X = XYZ_X[0] * r + XYZ_X[1] * g + XYZ_X[2] * b
    Z = XYZ_Z[0] * r + XYZ_Z[1] * g + XYZ_Z[2] * b
    d = X + 15.0 * v + 3.0 * Z
    if d > 1e-9:
        return 4.0 * X / d, 9.0 * v / d
    return 0.0, 0.0


@njit(inline="always")
def _swings(v, e, t, swing, darker_below):
    """(up, down): whether luminance ``v`` makes a luminance transition against the cell's last
    extreme ``e`` and trend ``t``. Branch-free (bitwise ands), so loops over it vectorise."""
    up = (t <= 0) & (v - e >= swing) & (e < darker_below)
    down = (t >= 0) & (e - v >= swing) & (v < darker_below)
    return up, down


@njit(inline="always")
def _is_red(r, g, b, red_ratio):
    """Whether the linear colour (r, g, b) is a saturated red (branch-free)."""
    return (r >= RED_FLOOR) & (r >= red_ratio * (r + g + b))


@njit(inline="always")
def _far_in_uv(r, g, b, v, u0, w0, shift2):
    """Whether the colour (r, g, b) of luminance ``v`` lies more than √shift2 from (u0, w0) in CIE
    1976 u′v′."""
    u, w = _uv(r, g, b, v)
    return (u - u0) ** 2 + (w - w0) ** 2 > shift2


@njit(inline="always")
def _reference_uv(ref_r, ref_g, ref_b):
    """The u′v′ of a cell's reference colour (linear)."""
    return _uv(ref_r, ref_g, ref_b, _luma(ref_r, ref_g, ref_b))


@njit(inline="always")
def _transitions(v, r, g, b, e, t, ref_r, ref_g, ref_b, was_red, swing, darker_below, red_ratio, shift2):
    """One cell's transitions at luminance ``v`` and linear colour (r, g, b), against its last extreme
    ``e`` and trend ``t`` and its reference colour (ref_r, ref_g, ref_b; ``was_red``): (up, down,
    red_turn, red). The u′v′ are computed only where a red transition is possible."""
    up, down = _swings(v, e, t, swing, darker_below)
    red = _is_red(r, g, b, red_ratio)
    red_turn = False
    if red or was_red:
        u0, w0 = _reference_uv(ref_r, ref_g, ref_b)
        red_turn = _far_in_uv(r, g, b, v, u0, w0, shift2)
    return up, down, red_turn, red


@njit(cache=True, nogil=True)
def commit_events(luma, rgb, extreme, trend, ref_rgb, ref_red, swing, darker_below, red_ratio, red_shift, events):
    """Mark the cells whose luminance ``luma`` or colour ``rgb`` makes a transition, and move each
    cell's state on to this frame.

    luma : float32 (gh, gw); rgb : float32 (gh, gw, 3) linear. extreme, trend : float32, int8 (gh, gw)
    last luminance extreme and its trend (+1 rising, −1 falling, 0 unknown). ref_rgb : float32
    (gh, gw, 3) the last colour state (linear), ref_red : bool (gh, gw) whether it was saturated red;
    updated in place. events : bool (gh, gw) out.
    """
    gh, gw = luma.shape
    for y in range(gh):  # one thread: waking another costs more than these 37 000 cells at 1080p
        for x in range(gw):
            v, e, t, was_red = luma[y, x], extreme[y, x], trend[y, x], ref_red[y, x]
            r, g, b = rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2]
            up, down, red_turn, red = _transitions(v, r, g, b, e, t, ref_rgb[y, x, 0], ref_rgb[y, x, 1],
                                                   ref_rgb[y, x, 2], was_red, swing, darker_below, red_ratio,
                                                   red_shift * red_shift)
            if red_turn or not (red or was_red):  # away from red the reference follows the colour
                ref_rgb[y, x, 0], ref_rgb[y, x, 1], ref_rgb[y, x, 2], ref_red[y, x] = r, g, b, red
            events[y, x] = up or down or red_turn
            if up or down:
                extreme[y, x], trend[y, x] = v, 1 if up else -1
            elif (t > 0 and v > e) or (t < 0 and v < e):
                extreme[y, x] = v  # the swing goes on: move the extreme with it


@njit(cache=True, nogil=True)
def reference_uv(ref_rgb, out):
    """out (float64 (gh, gw, 2)) = the u′v′ of each cell's reference colour ``ref_rgb`` (float32 (gh, gw, 3))."""
    gh, gw = out.shape[0], out.shape[1]
    for y in range(gh):
        for x in range(gw):
            out[y, x, 0], out[y, x, 1] = _reference_uv(ref_rgb[y, x, 0], ref_rgb[y, x, 1], ref_rgb[y, x, 2])


@njit(inline="always")
def _blended_cell(luma0, rgb0, luma1, rgb1, s, y, x):
    """(luminance, r, g, b) of cell (y, x) blended by share ``s`` from state 0 toward state 1."""
    return (luma0[y, x] + s * (luma1[y, x] - luma0[y, x]), rgb0[y, x, 0] + s * (rgb1[y, x, 0] - rgb0[y, x, 0]),
            rgb0[y, x, 1] + s * (rgb1[y, x, 1] - rgb0[y, x, 1]), rgb0[y, x, 2] + s * (rgb1[y, x, 2] - rgb0[y, x, 2]))


@njit(cache=True, nogil=True)
def counts_with_events(luma0, rgb0, luma1, rgb1, share, extreme, trend, ref_uv, ref_red, swing, darker_below,
                       red_ratio, red_shift, recent, out):
    """out = recent + 1 where the blend ``luma0 + share·(luma1 − luma0)`` (and the same of the colours)
    would make a transition, else recent; the cells' state is left as it is.

    luma0, luma1 : float32 (gh, gw); rgb0, rgb1 : float32 (gh, gw, 3); recent, out : int32 (gh, gw);
    ref_uv : float64 (gh, gw, 2), the u′v′ of the cells' reference colours (`reference_uv`); the
    other state arrays as in `commit_events`.
    """
    gh, gw = luma0.shape
    s = np.float32(share)
    shift2 = red_shift * red_shift
    for y in range(gh):
        # the luminance transitions first, branch-free (vectorised); then, in a row where some cell is
        # or was a saturated red, the red transitions of those cells (the bisection calls this ~10×
        # a limited frame)
        maybe_red = False
        for x in range(gw):
            v, r, g, b = _blended_cell(luma0, rgb0, luma1, rgb1, s, y, x)
            up, down = _swings(v, extreme[y, x], trend[y, x], swing, darker_below)
            out[y, x] = recent[y, x] + (up | down)
            maybe_red |= _is_red(r, g, b, red_ratio) | ref_red[y, x]
        if not maybe_red:
            continue
        for x in range(gw):
            v, r, g, b = _blended_cell(luma0, rgb0, luma1, rgb1, s, y, x)
            if ((_is_red(r, g, b, red_ratio) or ref_red[y, x])
                    and _far_in_uv(r, g, b, v, ref_uv[y, x, 0], ref_uv[y, x, 1], shift2)):
                out[y, x] = recent[y, x] + 1


@njit(cache=True, nogil=True)
def recent_counts(times, since, out):
    """out[y, x] = how many of the cell's transition times ``times[:, y, x]`` (float64 (n, gh, gw), s)
    are after ``since``."""
    n, gh, gw = times.shape
    for y in range(gh):
        row = out[y]
        row[:] = 0
        for k in range(n):  # plane by plane: contiguous, vectorised compares, no temporary arrays
            plane = times[k, y]
            for x in range(gw):
                row[x] += plane[x] > since


@njit(cache=True, nogil=True)
def record_events(events, times, time_s, since, counts):
    """Each cell with an event replaces its oldest transition time in ``times`` (float64 (n, gh, gw),
    s) by ``time_s``; then counts (int32 (gh, gw)) = how many of each cell's times are after ``since``."""
    n, gh, gw = times.shape
    for y in range(gh):
        for x in range(gw):
            if events[y, x]:
                oldest = 0
                for k in range(1, n):
                    if times[k, y, x] < times[oldest, y, x]:
                        oldest = k
                times[oldest, y, x] = time_s
    recent_counts(times, since, counts)


@njit(cache=True, nogil=True)
def busiest_field_share(counts, at_least, fh, fw, table):
    """The largest share of any (fh, fw) window of the grid covered by cells with ``counts``
    (int32 (gh, gw)) ≥ ``at_least``; table : int32 (gh + 1, gw + 1) scratch (a summed-area table)."""
    gh, gw = counts.shape
    any_cell = False
    for y in range(gh):
        for x in range(gw):
            hit = counts[y, x] >= at_least
            any_cell |= hit
            table[y + 1, x + 1] = hit + table[y, x + 1] + table[y + 1, x] - table[y, x]
    if not any_cell:
        return 0.0
    best = 0
    for y in range(fh, gh + 1):
        for x in range(fw, gw + 1):
            best = max(best, table[y, x] - table[y - fh, x] - table[y, x - fw] + table[y - fh, x - fw])
    return best / (fh * fw)


class FlashLimiter:
    """Keeps rendered frames to at most ``max_flashes`` flashes per ``window_s`` in any 10° field.

    Call `apply` once per frame on the finished output picture (everything drawn); it measures
    the frame, and if cells covering a quarter of some 10° field would make their 4th flash within
    the window, blends it toward the previous output in place. The previous output is kept (a full
    copy) only after frames from which the next one could flash too much; otherwise no pixel is copied.
    """

    def __init__(self, config: FlashLimitConfig = WCAG_FLASH_LIMIT):
        self.config = config
        self._to_linear = _srgb_to_linear_table()
        self._to_srgb = _linear_to_srgb_table()
        self._blend_lut = np.zeros(256 * 256, np.uint8)
        self._shape: tuple[int, int] | None = None
        self.limited_frames = 0  # frames blended so far
        self.kept_frames = 0  # frames whose pixels were kept for the next one (the rest copy nothing)

    def _reset(self, shape: tuple[int, int]) -> None:
        h, w = shape
        c = self.config
        gh = max(1, min(c.grid_rows, h))
        gw = max(1, min(round(gh * w / h), w))
        self._shape = shape
        per_cell = 4
        offsets = (np.arange(per_cell) + 0.5) / per_cell
        self._sample_y = np.minimum(((np.arange(gh)[:, None] + offsets) * h / gh).astype(np.int64), h - 1).ravel()
        self._sample_x = np.minimum(((np.arange(gw)[:, None] + offsets) * w / gw).astype(np.int64), w - 1).ravel()
        gh, gw = self._sample_y.size, self._sample_x.size  # every sampled pixel is a cell
        self._field = (max(1, math.ceil(gh * c.field)), max(1, math.ceil(gw * c.field)))
        self._rgb = np.zeros((gh, gw, 3), np.float32)
        self._luma = np.zeros((gh, gw), np.float32)
        self._previous_rgb = np.zeros_like(self._rgb)
        self._previous_rows = np.zeros(shape, np.uint32)  # the previous output, pixel for pixel, when kept
        self._previous_luma = np.zeros_like(self._luma)
        self._extreme = np.zeros_like(self._luma)
        self._trend = np.zeros((gh, gw), np.int8)
        self._ref_rgb = np.zeros((gh, gw, 3), np.float32)  # each cell's reference colour
        self._ref_red = np.zeros((gh, gw), np.bool_)
        self._ref_uv = np.zeros((gh, gw, 2), np.float64)  # their u′v′, computed for a frame that may flash
        self._events = np.zeros((gh, gw), np.bool_)
        self._times = np.full((2 * c.max_flashes + 1, gh, gw), -np.inf)  # each cell's last transitions (s)
        self._recent = np.zeros((gh, gw), np.int32)  # how many of them within the window
        self._counts = np.zeros((gh, gw), np.int32)  # scratch: the same with a frame's events
        self._table = np.zeros((gh + 1, gw + 1), np.int32)  # scratch of `busiest_field_share`
        self._first = True
        self._may_flash = False  # whether this frame's transitions can bring cells over the limit
        self._last_time_s = -np.inf

    def _share_over(self, counts: np.ndarray, at_least: int) -> float:
        return busiest_field_share(counts, at_least, self._field[0], self._field[1], self._table)

    def _too_many(self, share: float) -> bool:
        """Whether the blend by ``share`` of the previous and the measured cells (1.0: the measured
        ones) would bring the cells over ``2·max_flashes`` transitions within the window to the
        flashing share of some 10° field."""
        c = self.config
        counts_with_events(self._previous_luma, self._previous_rgb, self._luma, self._rgb, share, self._extreme,
                           self._trend, self._ref_uv, self._ref_red, np.float32(c.swing), np.float32(c.darker_below),
                           np.float32(c.red_ratio), np.float32(c.red_shift), self._recent, self._counts)
        return self._share_over(self._counts, 2 * c.max_flashes + 1) >= c.area

    def apply(self, rows: np.ndarray, *, shifts: tuple[int, int, int], time_s: float) -> float:
        """Limit flashes in the frame ``rows`` (uint32 (h, w) packed pixels) in place.

        shifts : bit positions of R, G, B in a pixel (pygame ``Surface.get_shifts()[:3]``).
        time_s : the frame's presentation time (s); the window slides over these times.
        Returns the share of the new frame kept (1.0 = untouched).
        """
        if rows.shape != self._shape:
            self._reset(rows.shape)
        c = self.config
        shifts_arr = np.asarray(shifts, np.int64)
        self._measure(rows, shifts_arr)
        if self._first:
            self._first = False
            self._extreme[...] = self._luma
            self._commit(time_s, record=False)  # the colour references start here
            self._remember(rows)  # no cell has a transition yet: the next frame cannot flash
            return 1.0
        if time_s < self._last_time_s:  # another clock (a new recording, a restart): start counting anew
            self._times[...] = -np.inf
            self._may_flash = False
        self._last_time_s = time_s
        kept = 1.0
        if self._may_flash:
            recent_counts(self._times, time_s - c.window_s, self._recent)
            reference_uv(self._ref_rgb, self._ref_uv)
            if self._too_many(1.0):
                kept = self._largest_safe_share()
                for share in (kept, 0.0):  # checked on the blended pixels; else the previous output is held
                    self._blend(rows, shifts_arr, share)
                    if not self._too_many(1.0):
                        break
                self.limited_frames += 1
                if self.limited_frames == 1:
                    log.info("flash limiter engaged: more than %d flashes in %.1f s", c.max_flashes, c.window_s)
        self._commit(time_s, record=True)
        self._remember(rows)
        return kept

    def _commit(self, time_s: float, *, record: bool) -> None:
        """Move the cells' state on to the measured frame; when ``record``, count its transitions and
        decide whether the next frame may flash too much. It may only if cells with 2·max_flashes
        transitions after time_s − window cover the flashing share of some 10° field: the next frame
        (at a time ≥ time_s, or on a restarted clock with none) adds at most one a cell."""
        c = self.config
        commit_events(self._luma, self._rgb, self._extreme, self._trend, self._ref_rgb, self._ref_red,
                      np.float32(c.swing), np.float32(c.darker_below), np.float32(c.red_ratio),
                      np.float32(c.red_shift), self._events)
        if record:
            record_events(self._events, self._times, time_s, time_s - c.window_s, self._counts)
            self._may_flash = self._share_over(self._counts, 2 * c.max_flashes) >= c.area

    def _blend(self, rows: np.ndarray, shifts: np.ndarray, share: float) -> None:
        """Replace ``rows`` by ``share`` of itself and the rest of the previous output (pixel for
        pixel, in linear light, so the cell means blend by the same share); measure it."""
        if share == 0.0:  # the previous output held as it was
            np.copyto(rows, self._previous_rows)
        else:
            blend_table(self._to_linear, self._to_srgb, np.float32(1.0 - share), self._blend_lut)
            with kernel_threads(rows.size >= PARALLEL_FROM_PIXELS):
                blend_toward(rows, self._previous_rows, shifts, self._blend_lut)
        self._measure(rows, shifts)

    def _measure(self, rows: np.ndarray, shifts: np.ndarray) -> None:
        """Each cell's (sampled pixel's) linear RGB and luminance (about 37 000 at 1080p: on this
        thread alone, since waking another costs more; see ``visualizer.system.threads``)."""
        with kernel_threads(False):
            measure_cells(rows, shifts, self._to_linear, self._sample_y, self._sample_x, self._rgb, self._luma)

    def _largest_safe_share(self) -> float:
        """Largest share of the new frame (bisection on the cell colours) within the limit."""
        lo, hi = 0.0, 1.0
        for _ in range(8):  # to 1/256, the 8-bit step
            mid = 0.5 * (lo + hi)
            if self._too_many(mid):
                hi = mid
            else:
                lo = mid
        return 0.9 * lo  # a margin for the 8-bit rounding of the blended pixels

    def _remember(self, rows: np.ndarray) -> None:
        """The measured cells become the previous ones; the pixels too when the next frame may be blended."""
        if self._may_flash:
            np.copyto(self._previous_rows, rows)
            self.kept_frames += 1
        self._previous_rgb[...] = self._rgb
        self._previous_luma[...] = self._luma
