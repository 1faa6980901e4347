"""The window: windowed or fullscreen, the field scaled to fill it keeping its aspect."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pygame

from visualizer.render.colourise import colourise_into

log = logging.getLogger(__name__)

DEFAULT_WINDOW = (1280, 720)


class Display:
    """Owns the pygame window; draws a phase field through a colour LUT.

    size : window size in pixels when windowed; fullscreen uses the monitor's size.
    display_index : which monitor (0-based) to open on.
    """

    def __init__(self, *, size: tuple[int, int] = DEFAULT_WINDOW, fullscreen: bool = False,
                 display_index: int = 0, caption: str = "visualizer"):
        pygame.display.init()
        n = pygame.display.get_num_displays()
        if not 0 <= display_index < n:
            raise ValueError(f"--display {display_index} does not exist: this machine has {n} display(s), 0..{n - 1}")
        pygame.display.set_caption(caption)
        self.display_index = display_index
        self.windowed_size = size
        self.fullscreen = fullscreen
        self._lut_rgb: np.ndarray | None = None
        self._open()

    def _open(self) -> None:
        if self.fullscreen:
            self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=self.display_index)
        else:
            self.screen = pygame.display.set_mode(self.windowed_size, pygame.RESIZABLE, display=self.display_index)
        # draw on a 32-bit canvas: the screen itself when it is 32-bit, else an offscreen copy
        self.canvas = self.screen if self.screen.get_bitsize() == 32 else pygame.Surface(self.screen.get_size(), 0, 32)
        self._layout_key = None
        if self._lut_rgb is not None:
            self.set_palette(self._lut_rgb)

    @property
    def size(self) -> tuple[int, int]:
        return self.screen.get_size()

    def toggle_fullscreen(self) -> None:
        if not self.fullscreen:
            self.windowed_size = self.size
        self.fullscreen = not self.fullscreen
        self._open()

    def resized(self, size: tuple[int, int]) -> None:
        """Follow a window resize event."""
        if not self.fullscreen and size != self.size:
            self.windowed_size = size
            self._open()

    def set_palette(self, lut_rgb: np.ndarray) -> None:
        """Use ``lut_rgb`` (uint8 (n, 3), colour of phase 2π·i/n) for the next frames."""
        self._lut_rgb = lut_rgb
        r, g, b, _ = self.canvas.get_shifts()
        alpha = self.canvas.get_masks()[3]
        rgb = lut_rgb.astype(np.uint32)
        self._lut = ((rgb[:, 0] << r) | (rgb[:, 1] << g) | (rgb[:, 2] << b) | np.uint32(alpha)).astype(np.uint32)

    def field_rect(self, field_shape: tuple[int, int]) -> pygame.Rect:
        """The largest rectangle of the field's aspect centred on the screen."""
        (sw, sh), (fh, fw) = self.size, field_shape
        scale = min(sw / fw, sh / fh)
        w, h = max(1, round(fw * scale)), max(1, round(fh * scale))
        return pygame.Rect((sw - w) // 2, (sh - h) // 2, w, h)

    def draw_field(self, theta: np.ndarray) -> None:
        """Colourise ``theta`` (float32 (H, W), rad) straight into the canvas, letterboxed."""
        key = (self.size, theta.shape)
        if key != self._layout_key:
            self._layout_key = key
            self._rect = self.field_rect(theta.shape)
            fh, fw = theta.shape
            self._source_col = (np.arange(self._rect.w) * fw // self._rect.w).astype(np.int32)
            self._source_row = (np.arange(self._rect.h) * fh // self._rect.h).astype(np.int32)
            (sw, sh), r = self.size, self._rect
            self._bars = [b for b in (pygame.Rect(0, 0, r.x, sh), pygame.Rect(r.right, 0, sw - r.right, sh),
                                      pygame.Rect(0, 0, sw, r.y), pygame.Rect(0, r.bottom, sw, sh - r.bottom)) if b.w and b.h]
        for bar in self._bars:  # the HUD may have drawn there last frame
            self.canvas.fill((0, 0, 0), bar)
        pixels = pygame.surfarray.pixels2d(self.canvas)
        colourise_into(theta, self._lut, pixels, self._rect.x, self._rect.y, self._source_col, self._source_row)
        del pixels  # unlocks the surface

    def present(self) -> None:
        if self.canvas is not self.screen:
            self.screen.blit(self.canvas, (0, 0))
        pygame.display.flip()

    def save_screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.screen, str(path))
        return path
