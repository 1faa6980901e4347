"""Heads-up display: sliders (base and live value), status lines, audio meters.

A compact translucent panel at the top left that fades out when the user is idle (`HudFader`),
so in fullscreen it never hides the field for long. The HUD only draws and hit-tests; the app
owns every value it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from visualizer.window.pygame_loader import pygame

PANEL_WIDTH = 260
ROW_HEIGHT = 16
MARGIN = 6
LABEL_WIDTH = 44
VALUE_WIDTH = 56
FONT_SIZE = 16
REFRESH_S = 0.05  # live numbers and meters are redrawn at 20 Hz; the user's changes and the beat at once
IDLE_S = 4.0  # the HUD stays fully visible this long after the last input
FADE_S = 1.5  # then fades to nothing over this long

_TEXT = (235, 235, 235)
_DIM = (150, 150, 150)
_ACCENT = (255, 200, 60)
_BAR = (90, 160, 255)
_PANEL = (0, 0, 0, 110)


@dataclass(frozen=True)
class SliderView:
    """One slider as drawn: ``base`` is what the user set, ``live`` the modulated value."""

    label: str
    base: float
    live: float
    lo: float
    hi: float


@dataclass(frozen=True)
class HudView:
    """Everything the HUD shows in one frame."""

    title: str
    sliders: tuple[SliderView, ...]
    selected: int
    lines: tuple[str, ...] = ()
    meters: tuple[tuple[str, float], ...] = ()  # (label, 0..1)
    beat_flash: float = 0.0  # 0..1, brightness of the beat indicator
    strips: tuple[tuple[str, tuple[float, ...]], ...] = field(default=())  # (label, bars 0..1)
    message: str = ""


class HudFader:
    """HUD opacity from input activity: 1 for ``idle_s`` after the last `touch`, then a linear
    fade to 0 over ``fade_s``. Times are seconds on any monotonic clock."""

    def __init__(self, *, idle_s: float = IDLE_S, fade_s: float = FADE_S, now_s: float = 0.0):
        if idle_s < 0 or fade_s <= 0:
            raise ValueError(f"idle_s must be ≥ 0 and fade_s > 0, got {idle_s}, {fade_s}")
        self.idle_s, self.fade_s = idle_s, fade_s
        self._last_input_s = now_s

    def touch(self, now_s: float) -> None:
        """Record user input (a key, mouse move or click, a controller): show the HUD again."""
        self._last_input_s = now_s

    def opacity(self, now_s: float) -> float:
        """0..1: how opaque to draw the HUD at ``now_s``."""
        fading = (now_s - self._last_input_s - self.idle_s) / self.fade_s
        return min(max(1.0 - fading, 0.0), 1.0)


class Hud:
    """Draws a ``HudView`` in a compact translucent panel at the top left."""

    def __init__(self, font_size: int = FONT_SIZE):
        pygame.font.init()
        self.font = pygame.font.Font(None, font_size)
        self._cache: dict[tuple[str, tuple[int, int, int]], pygame.Surface] = {}
        self._slider_rects: list[pygame.Rect] = []
        self._panel: pygame.Surface | None = None
        self._drawn: tuple[HudView, float] | None = None  # the view in the panel and when it was drawn

    def text(self, text: str, colour: tuple[int, int, int] = _TEXT) -> pygame.Surface:
        """``text`` rendered in the HUD font (cached: the same lines come back every frame)."""
        key = (text, colour)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) > 512:
                self._cache.clear()
            surf = self._cache[key] = self.font.render(text, True, colour)
        return surf

    def slider_at(self, pos: tuple[int, int]) -> int | None:
        """Index of the slider bar under ``pos``, or None."""
        for i, rect in enumerate(self._slider_rects):
            if rect.inflate(0, 8).collidepoint(pos):
                return i
        return None

    def value_at(self, index: int, x: int, view: SliderView) -> float:
        """The slider value that pixel column ``x`` stands for."""
        rect = self._slider_rects[index]
        t = min(max((x - rect.x) / max(rect.w, 1), 0.0), 1.0)
        return view.lo + t * (view.hi - view.lo)

    def splash(self, surface: pygame.Surface, text: str) -> None:
        """``text`` centred on black (start-up)."""
        surface.fill((0, 0, 0))
        line = self.font.render(text, True, _TEXT)
        surface.blit(line, line.get_rect(center=surface.get_rect().center))

    def draw(self, surface: pygame.Surface, view: HudView, opacity: float = 1.0, now_s: float | None = None) -> None:
        """Draw ``view`` at the top left of ``surface``; nothing at all when ``opacity`` ≤ 0.

        now_s : the frame's time (s, any monotonic clock). With it the panel is drawn again only
            when what the user controls changed, the beat dot comes on or off, or REFRESH_S has
            passed (drawing it cost ~1 ms a frame); in between the last one is blitted. None: drawn
            anew every call.
        """
        if opacity <= 0.0:
            return
        rows = (1 + len(view.sliders) + len(view.lines) + len(view.meters) + 2 * len(view.strips)
                + (1 if view.message else 0))
        size = (PANEL_WIDTH, rows * ROW_HEIGHT + 2 * MARGIN)
        if self._panel is None or self._panel.get_size() != size:
            self._panel, self._drawn = pygame.Surface(size, pygame.SRCALPHA), None
        panel = self._panel
        if self._due(view, now_s):
            panel.fill(_PANEL)
            self._draw_contents(panel, view)
            self._drawn = (view, now_s if now_s is not None else 0.0)
        panel.set_alpha(round(255 * min(opacity, 1.0)))
        surface.blit(panel, (0, 0))

    def _due(self, view: HudView, now_s: float | None) -> bool:
        """Whether the panel must be drawn again for ``view`` at ``now_s``."""
        if now_s is None or self._drawn is None:
            return True
        drawn, drawn_s = self._drawn
        return _shown_at_once(view) != _shown_at_once(drawn) or not 0.0 <= now_s - drawn_s < REFRESH_S

    def _draw_contents(self, surface: pygame.Surface, view: HudView) -> None:
        x, y = MARGIN, MARGIN
        surface.blit(self.text(view.title, _ACCENT), (x, y))
        if view.beat_flash > 0:
            level = int(80 + 175 * min(view.beat_flash, 1.0))
            pygame.draw.circle(surface, (level, level, 60), (PANEL_WIDTH - MARGIN - 6, y + 6), 5)
        y += ROW_HEIGHT
        self._slider_rects = []
        bar_w = PANEL_WIDTH - 2 * MARGIN - LABEL_WIDTH - VALUE_WIDTH
        for i, s in enumerate(view.sliders):
            colour = _ACCENT if i == view.selected else _TEXT
            surface.blit(self.text(s.label, colour), (x, y))
            rect = pygame.Rect(x + LABEL_WIDTH, y + 4, bar_w, ROW_HEIGHT - 10)
            self._slider_rects.append(rect)
            pygame.draw.rect(surface, (60, 60, 60), rect)
            zero = rect.x + int(rect.w * (0 - s.lo) / (s.hi - s.lo)) if s.lo < 0 < s.hi else rect.x
            live_x = rect.x + int(rect.w * (min(max(s.live, s.lo), s.hi) - s.lo) / (s.hi - s.lo))
            pygame.draw.rect(surface, _BAR, pygame.Rect(min(zero, live_x), rect.y, abs(live_x - zero) + 1, rect.h))
            base_x = rect.x + int(rect.w * (min(max(s.base, s.lo), s.hi) - s.lo) / (s.hi - s.lo))
            pygame.draw.rect(surface, colour, pygame.Rect(base_x - 1, rect.y - 3, 3, rect.h + 6))
            value = f"{s.live:+.1f}" if abs(s.live - s.base) < 0.05 else f"{s.base:+.0f}>{s.live:+.1f}"
            surface.blit(self.text(value, colour), (rect.right + 6, y))
            y += ROW_HEIGHT
        for line in view.lines:
            surface.blit(self.text(line, _DIM), (x, y))
            y += ROW_HEIGHT
        for label, level in view.meters:
            surface.blit(self.text(label, _DIM), (x, y))
            rect = pygame.Rect(x + LABEL_WIDTH, y + 5, bar_w, ROW_HEIGHT - 12)
            pygame.draw.rect(surface, (60, 60, 60), rect)
            filled = int(rect.w * min(max(level, 0.0), 1.0))
            pygame.draw.rect(surface, _BAR, pygame.Rect(rect.x, rect.y, filled, rect.h))
            y += ROW_HEIGHT
        for label, bars in view.strips:
            surface.blit(self.text(label, _DIM), (x, y))
            y += ROW_HEIGHT
            if bars:
                width = (PANEL_WIDTH - 2 * MARGIN) / len(bars)
                for i, b in enumerate(bars):
                    h = int((ROW_HEIGHT - 2) * min(max(b, 0.0), 1.0))
                    bar = pygame.Rect(x + int(i * width), y + ROW_HEIGHT - 2 - h, max(int(width) - 1, 1), h)
                    pygame.draw.rect(surface, _BAR, bar)
            y += ROW_HEIGHT
        if view.message:
            surface.blit(self.text(view.message, _ACCENT), (x, y))


def _shown_at_once(view: HudView) -> tuple:
    """What a view must show without waiting for REFRESH_S: what the user changes (title,
    selection, slider settings, message) and the beat dot coming on or going off."""
    return (view.title, view.selected, tuple(s.base for s in view.sliders), view.message, len(view.lines),
            view.beat_flash > 0)
