"""Two screens in one process: a clean output on the projector, the controls on the laptop.

With ``--output-display N`` the output (``render.display.Display``) opens fullscreen on monitor N
and shows the field and nothing else, the mouse cursor hidden over it. ``ControlsWindow`` is a
second SDL window (``pygame._sdl2.video``: a Surface drawn each frame, uploaded to a streaming
texture) on the operator's monitor: the HUD with a slider for every registry parameter, the audio
meters and measures, a live preview of the output, and the stage (scene, actions, recording).
Keys work in both windows; the mouse works in the controls window.
"""

from __future__ import annotations

import os

from pygame._sdl2.video import Renderer, Texture, Window

from visualizer.render.flash import FlashLimitConfig
from visualizer.window.display import Display, check_display
from visualizer.window.hud import PANEL_WIDTH, ROW_HEIGHT, Hud, HudView
from visualizer.window.pygame_loader import pygame

WINDOWPOS_CENTERED_DISPLAY = 0x2FFF0000  # SDL_WINDOWPOS_CENTERED_DISPLAY(n) is this | n
MARGIN = 8
STAGE_ROWS = 4  # lines of stage text kept free under the preview
PREVIEW_AT = (PANEL_WIDTH + MARGIN, MARGIN)  # the preview's top left in the controls window
PREVIEW_EVERY = 2  # frames per preview refresh: smooth scaling costs ~5 ms from 1080p, 30 fps is plenty
_BACKGROUND = (24, 24, 28)
_TEXT = (220, 220, 220)


def prepare_output_display(index: int) -> None:
    """Check that monitor ``index`` exists (else DisplayUnavailable, before any window opens), and
    keep a fullscreen output up when the focus moves to the controls window (SDL would minimise it)."""
    check_display(index, "--output-display")
    os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")


def open_screens(*, window: tuple[int, int], fullscreen: bool, display: int, output_display: int | None,
                 flash_limit: FlashLimitConfig | None) -> tuple[Display, ControlsWindow | None]:
    """The output and, with ``output_display``, the controls window.

    window : the window's size (one screen) or the controls window's (two screens), px.
    fullscreen : start the one window fullscreen (the output on two screens always is).
    display : the monitor of the one window, or of the controls. output_display : the output's
    monitor, or None for one window. flash_limit : see ``Display``.
    """
    if output_display is None:
        return Display(size=window, fullscreen=fullscreen, display_index=display, flash_limit=flash_limit), None
    prepare_output_display(output_display)  # before any window opens
    check_display(display)
    output = Display(size=window, fullscreen=True, display_index=output_display, flash_limit=flash_limit)
    return output, ControlsWindow(window, display_index=display, like=output.canvas)


class ControlsWindow:
    """The controls window: ``size`` (width, height) px, centred on monitor ``display_index``.

    like : a surface whose pixel format the window's canvas takes (the output's canvas), so the
    preview is scaled without a conversion. ``hud`` hit-tests the sliders in this window's
    coordinates.
    """

    def __init__(self, size: tuple[int, int], *, display_index: int, like: pygame.Surface):
        position = WINDOWPOS_CENTERED_DISPLAY | display_index
        self.window = Window("visualizer — controls", size=size, position=(position, position))
        self.renderer = Renderer(self.window)
        self.canvas = pygame.Surface(size, 0, like)
        self._texture = Texture(self.renderer, size, streaming=True)
        self.hud = Hud()
        self._preview: pygame.Surface | None = None  # the scaled output, blitted every frame
        self._preview_for: tuple[int, int] | None = None
        self._frames = 0

    def owns(self, event: pygame.event.Event) -> bool:
        """Whether ``event`` happened in this window."""
        window = getattr(event, "window", None)
        return window is not None and window.id == self.window.id

    def follow_cursor(self, event: pygame.event.Event) -> None:
        """Hide the mouse cursor while it is over the output, show it over this window."""
        if event.type == pygame.WINDOWENTER:
            pygame.mouse.set_visible(self.owns(event))

    def _preview_image(self, output: pygame.Surface) -> pygame.Surface:
        """The output scaled smoothly (no aliasing of fine patterns) to fit right of the HUD."""
        output_size = output.get_size()
        if self._preview_for != output_size:
            w, h = self.canvas.get_size()
            room_w = max(w - PANEL_WIDTH - 2 * MARGIN, 16)
            room_h = max(h - 2 * MARGIN - STAGE_ROWS * ROW_HEIGHT, 9)
            scale = min(room_w / output_size[0], room_h / output_size[1])
            size = (max(int(output_size[0] * scale), 1), max(int(output_size[1] * scale), 1))
            self._preview = pygame.Surface(size, 0, self.canvas)
            self._preview_for = output_size
            self._frames = 0
        if self._frames % PREVIEW_EVERY == 0:
            pygame.transform.smoothscale(output, self._preview.get_size(), self._preview)
        self._frames += 1
        return self._preview

    def draw(self, output: pygame.Surface, view: HudView, stage_lines: list[str]) -> None:
        """Draw the HUD ``view``, the preview of ``output`` and the ``stage_lines``, and show them."""
        self.canvas.fill(_BACKGROUND)
        self.hud.draw(self.canvas, view)
        preview = self._preview_image(output)
        self.canvas.blit(preview, PREVIEW_AT)
        x, y = PREVIEW_AT[0], PREVIEW_AT[1] + preview.get_height() + MARGIN // 2
        for line in stage_lines:
            self.canvas.blit(self.hud.text(line, _TEXT), (x, y))
            y += ROW_HEIGHT
        self.present()

    def present(self) -> None:
        self._texture.update(self.canvas)
        self.renderer.clear()
        self._texture.draw()
        self.renderer.present()

    def pixels(self) -> pygame.Surface:
        """What the window shows, read back from the renderer."""
        return self.renderer.to_surface()

    def close(self) -> None:
        self.window.destroy()
