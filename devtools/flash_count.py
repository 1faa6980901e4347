"""Counting flashes on rendered frames, independently of the limiter (`visualizer.render.flash`).

Per pixel (every ``step``-th in each direction), in float64 from the sRGB formula: a luminance
extreme tracker (a swing of ≥ 0.10 against the trend, the darker side < 0.80, however many frames
it takes) and a red tracker (a move of more than 0.2 in CIE 1976 u′v′ to or from a saturated red,
R/(R+G+B) ≥ 0.8), as WCAG 2.3.1 defines transitions. A region flashes n times in a second when a
quarter of its pixels each make 2n transitions in that second; the regions are every 10° field
(a third of the frame's width and height, WCAG's 341×256 of 1024×768) at a stride of a twelfth.

    counter = FlashCounter(); counter.add(rgb_frame) per frame …; counter.most_flashes_in_a_second(fps)
"""

from __future__ import annotations

import numpy as np

SWING, DARKER_BELOW, RED_RATIO, RED_SHIFT, AREA = 0.10, 0.80, 0.8, 0.2, 0.25


def linear(rgb_bytes: np.ndarray) -> np.ndarray:
    v = rgb_bytes.astype(np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


class FlashCounter:
    """Transitions per pixel per frame of a sequence of RGB frames (uint8 (..., 3), any layout)."""

    def __init__(self, step: int = 2):
        self.step = step
        self.events: list[np.ndarray] = []  # bool (h, w) per frame after the first
        self._extreme = self._trend = self._uv = self._red = None

    def add(self, rgb: np.ndarray) -> None:
        lin = linear(rgb[:: self.step, :: self.step])
        r, g, b = lin[..., 0], lin[..., 1], lin[..., 2]
        luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
        x = 0.4124 * r + 0.3576 * g + 0.1805 * b
        z = 0.0193 * r + 0.1192 * g + 0.9505 * b
        d = np.maximum(x + 15 * luma + 3 * z, 1e-9)
        uv = np.stack([4 * x / d, 9 * luma / d], axis=-1)
        red = (r >= 0.02) & (r >= RED_RATIO * (r + g + b))
        if self._extreme is None:
            self._extreme, self._trend, self._uv, self._red = luma, np.zeros(luma.shape, int), uv, red
            return
        e, t = self._extreme, self._trend
        up = (t <= 0) & (luma - e >= SWING) & (e < DARKER_BELOW)
        down = (t >= 0) & (e - luma >= SWING) & (luma < DARKER_BELOW)
        onward = ((t > 0) & (luma > e)) | ((t < 0) & (luma < e))
        self._extreme = np.where(up | down | onward, luma, e)
        self._trend = np.where(up, 1, np.where(down, -1, t))
        red_turn = (np.linalg.norm(uv - self._uv, axis=-1) > RED_SHIFT) & (red | self._red)
        follow = red_turn | ~(red | self._red)
        self._uv = np.where(follow[..., None], uv, self._uv)
        self._red = np.where(follow, red, self._red)
        self.events.append(up | down | red_turn)

    def most_flashes_in_a_second(self, fps: float) -> int:
        """The most flashes any 10° field made in any second of the frames added."""
        if not self.events:
            return 0
        events = np.array(self.events, np.int32)  # (frames, h, w)
        window = max(1, round(fps))
        totals = np.cumsum(np.concatenate([np.zeros((1,) + events.shape[1:], np.int32), events]), axis=0)
        per_second = totals[window:] - totals[:-window] if len(events) >= window else totals[-1:]
        h, w = per_second.shape[1:]
        fh, fw = max(1, round(h / 3)), max(1, round(w / 3))
        sy, sx = max(1, round(h / 12)), max(1, round(w / 12))
        most = 0
        for y in range(0, h - fh + 1, sy):
            for x in range(0, w - fw + 1, sx):
                region = np.sort(per_second[:, y:y + fh, x:x + fw].reshape(len(per_second), -1), axis=1)
                quarter = region[:, -int(np.ceil(AREA * region.shape[1]))]  # reached by ≥ 25 % of the pixels
                most = max(most, int(quarter.max()) // 2)
        return most
