"""Drawing the 3D lattice: depth-sorted dots in the palette's colours, size breathing with sin θ.

The screen mapping is the one ``visualizer.engine.sim.metric_sharing.projected_cells`` uses: the disc of
radius √3·(n−1)/2 that holds every rotation of the lattice fills the rect (screen y down), so a dot
drawn over the 2D field sits exactly on the cell its node is coupled to. The rotation is the demo's
(``lattice3d.rotation_matrix``), and the dots are painted in the demo's order: sorted by its depth
z' descending, stable (far first; larger depth = farther).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from visualizer.engine.sim.lattice3d import demo_depth, rotation_matrix
from visualizer.window.pygame_loader import pygame

BREATHING = 0.45  # dot radius × (1 + BREATHING·sin θ), as the demo's dots swell and shrink
DOT_FILL = 0.22  # base dot radius as a fraction of one lattice unit on screen
PERSPECTIVE = 0.25  # nearest dots this much larger, farthest this much smaller
DRAG_RAD_PER_PX = 0.01


@numba.njit(inline="always", fastmath=True, cache=True)
def _span(centre, half, lo, hi):
    """The pixels x in [lo, hi) whose centres x + 0.5 lie within ``half`` of ``centre``, as
    (first, end) with lo ≤ first ≤ end ≤ hi (first = end when there are none)."""
    first = min(max(lo, int(math.ceil(centre - half - 0.5))), hi)
    end = max(min(hi, int(math.floor(centre + half - 0.5)) + 1), first)
    return first, end


@numba.njit(fastmath=True, cache=True, nogil=True)
def _splat_dots(rows, xs, ys, radii, colours, order, x0, y0, x1, y1, rim_px, rim_colour):
    """Filled discs into ``rows`` (uint32 (H, W), the surface's pixels row by row) in ``order``
    (far first), clipped to the rect [x0, x1) × [y0, y1); the outer ``rim_px`` of each disc in
    ``rim_colour``. Each disc row is three solid runs (rim, inside, rim) whose ends come from one
    square root, so the writes are plain fills (×2 faster than testing every pixel)."""
    for k in range(order.size):
        i = order[k]
        r = radii[i]
        inner = max(r - rim_px, 0.0)
        for y in range(max(y0, int(ys[i] - r)), min(y1, int(ys[i] + r) + 1)):
            dy2 = (y + 0.5 - ys[i]) ** 2
            if dy2 > r * r:
                continue
            first, end = _span(xs[i], math.sqrt(r * r - dy2), x0, x1)
            if dy2 <= inner * inner:
                inside_first, inside_end = _span(xs[i], math.sqrt(inner * inner - dy2), first, end)
            else:
                inside_first, inside_end = first, first
            row = rows[y]
            row[first:inside_first] = rim_colour
            row[inside_first:inside_end] = colours[i]
            row[inside_end:end] = rim_colour


COVER_MARGIN_PX = 1e-3  # a dot hides one under it only if its radius is larger by this much (centres to 1e-6 px)
CULL_UP_TO_NODES = 16**3  # above, finding the hidden dots (~0.1 µs a node) costs more than a turning view saves


@numba.njit(cache=True, nogil=True)
def _uncovered(order, xs, ys, radii, out):
    """The dots of ``order`` (far first) that no later dot hides whole, in the same order, into ``out``
    (int64 (N,)); returns how many. A later dot hides one when their centres agree to 2⁻²⁰ px and its
    radius is larger by ``COVER_MARGIN_PX``: its disc then holds every pixel of the other's (the
    corner and square views stack n nodes on one point, so most of their dots are never seen)."""
    widest = dict()
    hidden = np.zeros(order.size, np.bool_)
    for k in range(order.size - 1, -1, -1):  # nearest first
        i = order[k]
        key = (np.int64(round(xs[i] * 1048576.0)), np.int64(round(ys[i] * 1048576.0)))
        r = radii[i]
        if key in widest:
            if widest[key] >= r + COVER_MARGIN_PX:
                hidden[k] = True
            else:
                widest[key] = max(widest[key], r)
        else:
            widest[key] = r
    count = 0
    for k in range(order.size):
        if not hidden[k]:
            out[count] = order[k]
            count += 1
    return count


def warm_up() -> None:
    """Load (or compile, the first time) the dot-drawing kernel by drawing two dots on a tiny
    surface, so a lattice preset's first frame does not pay for it."""
    surface = pygame.Surface((16, 16), 0, 32)
    lut = pack_lut(surface, np.zeros((8, 3), np.uint8))
    draw_lattice(surface, surface.get_rect(), np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), np.zeros(2),
                 (0.0, 0.0), lut)


def pack_lut(surface: pygame.Surface, lut_rgb: np.ndarray) -> np.ndarray:
    """The LUT (uint8 (m, 3) sRGB, colour of phase 2π·i/m) as ``surface``'s 32-bit pixel values, uint32 (m,)."""
    r, g, b, _ = surface.get_shifts()
    rgb = lut_rgb.astype(np.uint32)
    return (rgb[:, 0] << r) | (rgb[:, 1] << g) | (rgb[:, 2] << b) | np.uint32(surface.get_masks()[3])


def screen_layout(positions: np.ndarray, theta: np.ndarray, rotation: tuple[float, float],
                  rect: pygame.Rect) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where and how big each node's dot is: (x_px, y_px, radius_px, painting order, far first).

    positions : float64 (N, 3) centred lattice positions; theta : (N,) phases (rad).
    The order is the demo's: its depth z' = x·sin ry + z·cos ry descending, stable.
    """
    xyz = positions @ rotation_matrix(rotation).T
    extent = float(np.sqrt((positions**2).sum(axis=1)).max()) or 1.0  # = √3·(n−1)/2
    unit_px = min(rect.w, rect.h) / (2 * extent)
    xs = rect.x + (xyz[:, 0] + extent) / (2 * extent) * rect.w
    ys = rect.y + (xyz[:, 1] + extent) / (2 * extent) * rect.h
    near = -xyz[:, 2] / extent  # −1 far … +1 near (depth z'' grows away from the viewer)
    radii = DOT_FILL * unit_px * (1 + BREATHING * np.sin(theta)) * (1 + PERSPECTIVE * near)
    return xs, ys, np.maximum(radii, 0.5), np.argsort(-demo_depth(positions, rotation), kind="stable")


def draw_lattice(surface: pygame.Surface, rect: pygame.Rect, positions: np.ndarray, theta: np.ndarray,
                 rotation: tuple[float, float], packed_lut: np.ndarray, *, background: int | None = None,
                 rim_px: float = 1.0) -> None:
    """Draw the lattice's dots into ``rect`` of a 32-bit ``surface``, far dots first.

    positions : float64 (N, 3); theta : (N,) rad; rotation : (rx, ry) rad;
    packed_lut : ``pack_lut(surface, lut_rgb)``; background : pixel value to clear the rect with
    first (drawing beside the field), or None to draw over what is there (overlay);
    rim_px : width of a black rim that keeps dots legible over a field of the same colours.
    """
    rect = rect.clip(surface.get_rect())
    if background is not None:
        surface.fill(background, rect)
    xs, ys, radii, order = screen_layout(positions, theta, rotation, rect)
    index = (np.mod(theta, 2 * np.pi) * (packed_lut.size / (2 * np.pi))).astype(np.int64) % packed_lut.size
    seen = order
    if order.size <= CULL_UP_TO_NODES:
        seen = np.empty_like(order)
        seen = seen[:_uncovered(order, xs, ys, radii, seen)]
    pixels = pygame.surfarray.pixels2d(surface)
    try:
        _splat_dots(pixels.T, xs, ys, radii, packed_lut[index], seen, rect.left, rect.top, rect.right, rect.bottom,
                    float(rim_px), int(surface.map_rgb((0, 0, 0))))
    finally:
        del pixels  # unlock the surface


def draw_cessation_veil(surface: pygame.Surface, rect: pygame.Rect, rgb: tuple[int, int, int], strength: float) -> None:
    """Blend ``rect`` toward one uniform colour (e.g. the mean phase's) by ``strength`` in [0, 1]."""
    if strength <= 0:
        return
    veil = pygame.Surface(rect.size)
    veil.fill(rgb)
    veil.set_alpha(round(255 * min(strength, 1.0)))
    surface.blit(veil, rect.topleft)


def draw_lattice_over(surface: pygame.Surface, lattice, lut_rgb: np.ndarray) -> None:
    """The somatic lattice (a ``session.LatticeState``) over the field on the whole ``surface``;
    at cessation the screen dissolves into the mean phase's colour. lut_rgb : uint8 (m, 3)."""
    rect = surface.get_rect()
    draw_lattice(surface, rect, lattice.positions, lattice.theta, lattice.rotation, pack_lut(surface, lut_rgb))
    m = lattice.measures
    if m is not None and m.cessation_active:
        index = int(np.mod(m.mean_phase, 2 * np.pi) / (2 * np.pi) * len(lut_rgb)) % len(lut_rgb)
        draw_cessation_veil(surface, rect, tuple(int(v) for v in lut_rgb[index]), m.cessation)
