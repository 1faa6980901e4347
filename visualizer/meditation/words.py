"""Legible words over the field: text on a soft dark backdrop with a shadow, in glyphs the font has.

The session window draws its intention, cues, timer and questions through ``Words``. A
character the font lacks (pygame's default font has no "→") would show as a missing-glyph box:
``legible`` swaps the common ones for what the font has (``FALLBACK``) and drops the rest. Long
lines wrap at word boundaries to ``WRAP_SHARE`` of the picture's width.
"""

from __future__ import annotations

TEXT = (240, 236, 226)
SHADOW = (0, 0, 0)
BACKDROP_ALPHA = 0.6  # 0..1 of the text's own opacity: the field shows through; 4.5 : 1 contrast even on white
PAD = 0.45  # backdrop padding, in line heights
WRAP_SHARE = 0.8
FALLBACK = {"→": "->", "←": "<-", "—": "-", "–": "-", "…": "...", "·": "-", "’": "'", "“": '"', "”": '"'}


class Words:
    """Text drawing for the session window (pygame.freetype, the default font).

    sizes : {"big", "cue", "small"} → pixel sizes, scaled from a 720-pixel-high picture.
    """

    def __init__(self, height_px: int):
        from visualizer.window.pygame_loader import pygame

        import pygame.freetype

        pygame.freetype.init()
        scale = height_px / 720
        self._fonts = {name: pygame.freetype.Font(None, round(size * scale))
                       for name, size in (("big", 40), ("cue", 30), ("small", 22))}
        self._pygame = pygame

    def legible(self, text: str, size: str = "cue") -> str:
        """``text`` with every character the font lacks replaced (``FALLBACK``) or dropped."""
        font = self._fonts[size]
        metrics = font.get_metrics(text)
        out = []
        for ch, m in zip(text, metrics):
            if m is not None or ch.isspace():
                out.append(ch)
            else:
                out.append(self.legible(FALLBACK[ch], size) if ch in FALLBACK else "")
        return "".join(out)

    def lines(self, text: str, size: str, width_px: int) -> list[str]:
        """``text`` (made legible) broken into lines no wider than ``width_px`` where words allow."""
        font, lines = self._fonts[size], []
        for word in self.legible(text, size).split():
            if lines and font.get_rect(f"{lines[-1]} {word}").width <= width_px:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    def draw(self, canvas, text: str, *, size: str, centre_x: int, top: int, opacity: float,
             backdrop: bool = True) -> int:
        """Draw ``text`` centred on ``centre_x`` from ``top`` (px) at ``opacity`` (0..1), on a
        rounded dark backdrop with a shadow; returns the bottom of what was drawn (px)."""
        if not text or opacity <= 0.01:
            return top
        pygame, font = self._pygame, self._fonts[size]
        w = canvas.get_width()
        lines = self.lines(text, size, int(WRAP_SHARE * w))
        line_h = font.get_sized_height()
        surfaces = [font.render(line, TEXT)[0] for line in lines]
        block_w = max(s.get_width() for s in surfaces)
        block_h = line_h * len(lines)
        alpha = round(255 * min(opacity, 1.0))
        layer = pygame.Surface((block_w + 2 * round(PAD * line_h), block_h + round(PAD * line_h)), pygame.SRCALPHA)
        if backdrop:
            pygame.draw.rect(layer, (*SHADOW, round(255 * BACKDROP_ALPHA)), layer.get_rect(),
                             border_radius=round(0.4 * line_h))
        for i, surface in enumerate(surfaces):
            x = (layer.get_width() - surface.get_width()) // 2
            y = round(PAD * line_h / 2) + i * line_h + (line_h - surface.get_height()) // 2
            shadow = font.render(lines[i], SHADOW)[0]
            layer.blit(shadow, (x + 2, y + 2))
            layer.blit(surface, (x, y))
        layer.set_alpha(alpha)
        canvas.blit(layer, (centre_x - layer.get_width() // 2, top))
        return top + layer.get_height()
