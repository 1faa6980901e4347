"""Phases → packed RGB frames of an output size, and their BT.709 yuv420p conversion.

``FramePainter`` colours a phase field into a preallocated frame of packed pixels of the output
size, with the window's own kernels (edge to edge, smooth e^{iθ} scaling). ``Yuv420Frame``
converts such a frame to BT.709 limited-range yuv420p (``rgb_to_yuv420p``, parallel), the layout
``background.video_writer`` pipes to ffmpeg.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from visualizer.render.colour import palette_lut
from visualizer.render.scaler import FieldScaler


def pack_rgb0(lut_rgb: np.ndarray) -> np.ndarray:
    """uint8 (n, 3) sRGB → uint32 (n,) pixels whose bytes in memory are R, G, B, 0 (``rgb0``)."""
    rgb = lut_rgb.astype(np.uint32)
    return rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16)


# BT.709, limited range (Y 16..235, Cb/Cr 16..240), 8-bit: Y = 16 + Σ KY·RGB, C = 128 + Σ K·RGB
_KY = tuple(np.float32(k) for k in (219 / 255 * 0.2126, 219 / 255 * 0.7152, 219 / 255 * 0.0722))
_KB = tuple(np.float32(k / 4) for k in (224 / 255 * -0.2126 / 1.8556, 224 / 255 * -0.7152 / 1.8556, 224 / 255 * 0.5))
_KR = tuple(np.float32(k / 4) for k in (224 / 255 * 0.5, 224 / 255 * -0.7152 / 1.5748, 224 / 255 * -0.0722 / 1.5748))
_Y0, _C0 = np.float32(16.5), np.float32(128.5)  # offsets, + 0.5 so the truncation rounds


@njit(fastmath=True, inline="always")
def _channels(p, r_shift, g_shift, b_shift):
    return (np.float32((p >> r_shift) & 255), np.float32((p >> g_shift) & 255), np.float32((p >> b_shift) & 255))


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def rgb_to_yuv420p(rows, r_shift, g_shift, b_shift, y_out, u_out, v_out):
    """Packed pixels → BT.709 limited-range planar 4:2:0, the chroma of each 2×2 block its mean.

    rows : uint32 (H, W), H and W even, R, G, B at bits ``*_shift``; any strides (a pygame view).
    y_out : uint8 (H, W); u_out, v_out : uint8 (H/2, W/2) (Cb, Cr).
    """
    h, w = rows.shape
    r_shift, g_shift, b_shift = np.uint32(r_shift), np.uint32(g_shift), np.uint32(b_shift)
    for cy in prange(h // 2):
        for y in (2 * cy, 2 * cy + 1):
            for x in range(w):
                r, g, b = _channels(rows[y, x], r_shift, g_shift, b_shift)
                y_out[y, x] = np.uint8(_Y0 + _KY[0] * r + _KY[1] * g + _KY[2] * b)
        for cx in range(w // 2):
            r0, g0, b0 = _channels(rows[2 * cy, 2 * cx], r_shift, g_shift, b_shift)
            r1, g1, b1 = _channels(rows[2 * cy, 2 * cx + 1], r_shift, g_shift, b_shift)
            r2, g2, b2 = _channels(rows[2 * cy + 1, 2 * cx], r_shift, g_shift, b_shift)
            r3, g3, b3 = _channels(rows[2 * cy + 1, 2 * cx + 1], r_shift, g_shift, b_shift)
            r, g, b = r0 + r1 + r2 + r3, g0 + g1 + g2 + g3, b0 + b1 + b2 + b3
            u_out[cy, cx] = np.uint8(_C0 + _KB[0] * r + _KB[1] * g + _KB[2] * b)
            v_out[cy, cx] = np.uint8(_C0 + _KR[0] * r + _KR[1] * g + _KR[2] * b)


class Yuv420Frame:
    """One preallocated yuv420p frame (``data``, contiguous uint8) and its three planes."""

    def __init__(self, size: tuple[int, int]):
        w, h = size
        self.data = np.empty(w * h * 3 // 2, np.uint8)
        self.y = self.data[:w * h].reshape(h, w)
        self.u = self.data[w * h:w * h * 5 // 4].reshape(h // 2, w // 2)
        self.v = self.data[w * h * 5 // 4:].reshape(h // 2, w // 2)

    def convert(self, rows: np.ndarray, shifts: tuple[int, int, int]) -> None:
        rgb_to_yuv420p(rows, *shifts, self.y, self.u, self.v)


class FramePainter:
    """Phases → a frame of packed ``rgb0`` pixels (uint32 (height, width)) of a fixed output size,
    drawn exactly as the window draws them (the field stretched edge to edge, its e^{iθ}
    interpolated bilinearly: ``render.scaler``); the frame is reused every call. Packed
    ``rgb0`` is the layout the flash limiter and ``VideoWriter`` take."""

    SHIFTS = (0, 8, 16)  # bit positions of R, G, B in a pixel

    def __init__(self, size: tuple[int, int]):
        self.size = size
        self.frame = np.zeros((size[1], size[0]), np.uint32)
        self.scaler = FieldScaler(size)
        self._lut_key = None
        self.lut: np.ndarray | None = None  # uint8 (n, 3), the palette's colours
        self._packed: np.ndarray | None = None  # the same as rgb0 pixels

    def use_palette(self, palette: str, *, lightness: float, saturation: float) -> np.ndarray:
        """The LUT for ``palette`` (see ``palette_lut``), rebuilt only when the rounded look changes."""
        key = (palette, round(lightness), round(saturation, 2))
        if key != self._lut_key:
            self._lut_key = key
            self.lut = palette_lut(palette, lightness=key[1], saturation=key[2])
            self._packed = pack_rgb0(self.lut)
        return self.lut

    def paint(self, theta: np.ndarray, *, view: str = "phase", reference: float = 0.0,
              lut: np.ndarray | None = None, stagger: float | None = None) -> np.ndarray:
        """theta : float32 (H, W) → the frame, valid until the next call.

        view : "phase" or "antiphase" (see ``render.colourise``). reference : the phase (rad)
        coloured as the palette's zero (``engine.phase_reference``). lut : uint8 (n, 3) colours to use
        instead of the palette's (a look or a cross-fade).
        """
        self.scaler.paint(theta, self._packed if lut is None else pack_rgb0(lut), self.frame, view=view,
                          reference=reference, stagger=stagger)
        return self.frame
