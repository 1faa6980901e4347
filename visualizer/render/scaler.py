"""The field stretched edge to edge into rows of packed pixels, the one layout both the window
(``render.display``) and video frames (``render.frames``) draw with, so they draw the same pixels.
"""

from __future__ import annotations

import numpy as np

from visualizer.render.colour import rotate_lut
from visualizer.render.colourise import (
    VIEWS,
    bilinear_taps,
    interpolate_into,
    stagger_of,
    turn_antiphase_domains,
    unit_vectors,
)
from visualizer.system.threads import (
    PARALLEL_FROM_CELLS,
    PARALLEL_FROM_PIXELS,
    kernel_threads,
)

LARGE_OUTPUT_PIXELS = 2560 * 1440  # above this, evaluate the field once per 2×2 pixels
_CHUNKS = 16  # parallel work units per frame (rows of the output in 16 bands)


class FieldScaler:
    """Colourises a phase field into an output of ``size`` (width, height) px through a LUT.

    block : output pixels per evaluated field sample along each axis (1 = every pixel, 2 = every
        2×2 square); None chooses 2 above 2560×1440 (4K) and 1 below.
    Buffers are allocated when the field's shape changes, never per frame.
    """

    def __init__(self, size: tuple[int, int], block: int | None = None):
        if block is not None and block < 1:
            raise ValueError(f"block must be ≥ 1, got {block}")
        self.size = size
        self.block = block or (2 if size[0] * size[1] > LARGE_OUTPUT_PIXELS else 1)
        self._layout_for: tuple[int, int] | None = None

    def _layout(self, field_shape: tuple[int, int]) -> None:
        (w, h), (fh, fw) = self.size, field_shape
        samples_x, samples_y = -(-w // self.block), -(-h // self.block)
        self._cols = bilinear_taps(samples_x, fw)
        self._rows = bilinear_taps(samples_y, fh)
        self._cos = np.empty(field_shape, np.float32)
        self._sin = np.empty(field_shape, np.float32)
        chunks = min(_CHUNKS, samples_y)
        self._scratch = (np.empty((chunks, 4, samples_x), np.float32), np.empty((chunks, samples_x), np.uint32))
        self._layout_for = field_shape

    def paint(self, theta: np.ndarray, packed_lut: np.ndarray, rows: np.ndarray, *, view: str = "phase",
              reference: float = 0.0, stagger: float | None = None) -> None:
        """Colourise ``theta`` (float32 (H, W), rad) into ``rows`` (uint32 (height, width), any strides).

        packed_lut : uint32 (n,), n a power of two, the pixel of phase 2π·i/n.
        view : "phase" (colour = θ) or "antiphase" (colour = θ + π on cells with odd x + y, so
            checkerboard order shows as flat colour and its domains as colour regions), or
            "domains" (each cell drawn as the view that suits its neighbourhood: see
            ``colourise.turn_antiphase_domains``; ``stagger`` is ignored).
        reference : the phase (rad) coloured as the palette's zero (``engine.phase_reference``).
        stagger : the turn (rad) of the odd cells, overriding ``view``'s 0 or π (a cross-fade
            between the views, ``FrameState.stagger``).
        """
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
        if theta.shape != self._layout_for:
            self._layout(theta.shape)
        with kernel_threads(theta.size >= PARALLEL_FROM_CELLS):
            unit_vectors(theta, *stagger_of(view, stagger), self._cos, self._sin)
            if view == "domains":
                turn_antiphase_domains(self._cos, self._sin)
        with kernel_threads(self._cols[0].size * self._rows[0].size >= PARALLEL_FROM_PIXELS):
            interpolate_into(self._cos, self._sin, rotate_lut(packed_lut, reference), rows, self.block,
                             *self._cols, *self._rows, *self._scratch)
