"""The window: windowed or fullscreen, the field stretched smoothly to fill it edge to edge."""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from visualizer.render.flash import WCAG_FLASH_LIMIT, FlashLimitConfig, FlashLimiter
from visualizer.render.scaler import FieldScaler
from visualizer.window.pygame_loader import pygame

log = logging.getLogger(__name__)

DEFAULT_WINDOW = (1280, 720)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tga")


class ScreenshotError(Exception):
    """A screenshot could not be written (one line: the path and why)."""


class DisplayUnavailable(Exception):
    """No usable display, or the screen the user asked for does not exist (one line for the user)."""


NO_DISPLAY_FIX = ("run headless with --headless (offscreen: e.g. --headless --frames 600 --screenshot out.png), "
                  "or on a virtual display: xvfb-run -a visualizer …")
INVISIBLE_DRIVERS = ("offscreen", "dummy")  # SDL drivers that draw nowhere


def check_usable_display() -> None:
    """Raise DisplayUnavailable unless a window would be seen. With no display SDL quietly falls
    back to its offscreen driver: the window would run invisibly forever. A driver the user
    chose in SDL_VIDEODRIVER (``--headless`` sets "dummy") is taken as chosen."""
    if os.environ.get("SDL_VIDEODRIVER"):
        pygame.display.init()
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayUnavailable(f"no usable display (DISPLAY and WAYLAND_DISPLAY are not set): {NO_DISPLAY_FIX}")
    try:
        pygame.display.init()
    except pygame.error as e:
        raise DisplayUnavailable(f"no usable display ({e}): {NO_DISPLAY_FIX}") from None
    driver = pygame.display.get_driver()
    if driver in INVISIBLE_DRIVERS:
        pygame.display.quit()
        raise DisplayUnavailable(f"no usable display (SDL found only its invisible {driver!r} driver): "
                                 f"{NO_DISPLAY_FIX}")


def check_display(index: int, option: str = "--display") -> None:
    """Raise DisplayUnavailable unless there is a usable display (``check_usable_display``) and
    monitor ``index`` (0-based) exists; opens no window.

    option : the command-line option that named it, for the message.
    """
    check_usable_display()
    n = pygame.display.get_num_displays()
    if not 0 <= index < n:
        raise DisplayUnavailable(f"{option} {index} does not exist: this machine has {n} display(s), 0..{n - 1}")


class Display:
    """Owns the pygame window; draws a phase field through a colour LUT, edge to edge.

    size : window size in pixels when windowed; fullscreen uses the monitor's size.
    display_index : which monitor (0-based) to open on.
    block : output pixels per evaluated field sample along each axis (1 = every pixel, 2 = every
        2×2 square); None chooses 2 above 2560×1440 (4K) and 1 below.
    flash_limit : the photosensitive flash limiter (`FlashLimitConfig`), on by default; pass None
        only on the user's explicit request (it is logged as a warning). It runs in `present` on
        the whole picture about to be shown (the field and anything drawn over it).
    """

    def __init__(self, *, size: tuple[int, int] = DEFAULT_WINDOW, fullscreen: bool = False,
                 display_index: int = 0, caption: str = "visualizer", block: int | None = None,
                 flash_limit: FlashLimitConfig | None = WCAG_FLASH_LIMIT):
        check_display(display_index)
        if block is not None and block < 1:
            raise ValueError(f"block must be ≥ 1, got {block}")
        pygame.display.set_caption(caption)
        self.display_index = display_index
        self.windowed_size = size
        self.fullscreen = fullscreen
        self.block = block
        if flash_limit is None:
            log.warning("photosensitive flash limiter OFF: output may flash more than 3 times per second")
        self.flash_limiter = FlashLimiter(flash_limit) if flash_limit is not None else None
        self.copy_limiter = FlashLimiter(flash_limit) if flash_limit is not None else None  # for `limited_copy`
        self._lut_rgb: np.ndarray | None = None
        self._frame_time_s: float | None = None  # the time of the frame being drawn, for the limiter
        self._to_limit = False  # a field was drawn since the canvas was last limited
        self._open()

    def _open(self) -> None:
        if self.fullscreen:
            self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=self.display_index)
        else:
            self.screen = pygame.display.set_mode(self.windowed_size, pygame.RESIZABLE, display=self.display_index)
        # draw on a 32-bit canvas: the screen itself when it is 32-bit, else an offscreen copy
        self.canvas = self.screen if self.screen.get_bitsize() == 32 else pygame.Surface(self.screen.get_size(), 0, 32)
        self.scaler: FieldScaler | None = None
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
        """Use ``lut_rgb`` (uint8 (n, 3), n a power of two, colour of phase 2π·i/n) from the next frame."""
        n = lut_rgb.shape[0]
        if n & (n - 1) or lut_rgb.shape[1:] != (3,):
            raise ValueError(f"palette must be (n, 3) with n a power of two, got {lut_rgb.shape}")
        self._lut_rgb = lut_rgb
        r, g, b, _ = self.canvas.get_shifts()
        alpha = self.canvas.get_masks()[3]
        rgb = lut_rgb.astype(np.uint32)
        self._lut = ((rgb[:, 0] << r) | (rgb[:, 1] << g) | (rgb[:, 2] << b) | np.uint32(alpha)).astype(np.uint32)

    def draw_field(self, theta: np.ndarray, *, view: str = "phase", reference: float = 0.0,
                   time_s: float | None = None, stagger: float | None = None) -> None:
        """Colourise ``theta`` (float32 (H, W), rad) into the whole canvas (flashes are limited in `present`).

        view : "phase" (colour = θ) or "antiphase" (colour = θ + π on cells with odd x + y, so
            checkerboard order shows as flat colour and its domains as colour regions).
        reference : the phase (rad) coloured as the palette's zero (``engine.phase_reference``).
        stagger : the odd cells' turn (rad), overriding ``view`` (a cross-fade between views).
        time_s : the frame's time for the flash limiter (s; the simulation or video clock);
            None = the monotonic clock when it is presented.
        """
        if self.scaler is None or (self.scaler.size, self._scaler_block) != (self.size, self.block):
            self.scaler, self._scaler_block = FieldScaler(self.size, self.block), self.block
        self._frame_time_s, self._to_limit = time_s, True
        rows = pygame.surfarray.pixels2d(self.canvas).T  # (h, w) view of the surface's pixels
        try:
            self.scaler.paint(theta, self._lut, rows, view=view, reference=reference, stagger=stagger)
        finally:
            del rows  # unlocks the surface

    def limit_flashes(self) -> None:
        """Run the flash limiter over the canvas as it is now, once per drawn field (`present` does;
        call it earlier only to read the limited picture before presenting it)."""
        if self.flash_limiter is None or not self._to_limit:
            return
        self._to_limit = False
        rows = pygame.surfarray.pixels2d(self.canvas).T
        try:
            self.flash_limiter.apply(rows, shifts=self.canvas.get_shifts()[:3],
                                     time_s=time.monotonic() if self._frame_time_s is None else self._frame_time_s)
        finally:
            del rows

    def limited_copy(self) -> np.ndarray:
        """The canvas as it is now, uint32 (h, w) packed pixels, flash limited by a limiter of its
        own: what a recording takes before the window draws more over it (the HUD), so both the
        recording and the screen (`present`) are limited, each on what it shows."""
        rows = np.array(pygame.surfarray.pixels2d(self.canvas).T, dtype=np.uint32, order="C")  # a copy
        if self.copy_limiter is not None:
            self.copy_limiter.apply(rows, shifts=self.canvas.get_shifts()[:3],
                                    time_s=time.monotonic() if self._frame_time_s is None else self._frame_time_s)
        return rows

    def present(self) -> None:
        """Show the canvas: everything drawn on it this frame goes through the flash limiter first."""
        self.limit_flashes()
        if self.canvas is not self.screen:
            self.screen.blit(self.canvas, (0, 0))
        pygame.display.flip()

    def save_screenshot(self, path: Path) -> Path:
        """Save the window as an image at ``path`` (PNG unless its suffix names another format);
        raises ScreenshotError (one line) if it cannot be written. The image is encoded in
        memory and written by Python, whose writes report a full disk (pygame's do not)."""
        encoded = io.BytesIO()
        pygame.image.save(self.screen, encoded, path.name if path.suffix.lower() in IMAGE_SUFFIXES else "shot.png")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encoded.getbuffer())
        except OSError as e:
            raise ScreenshotError(f"screenshot not saved: {path}: {e.strerror or e}") from e
        return path
