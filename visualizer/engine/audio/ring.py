"""Lock-free single-producer/single-consumer ring buffer of audio frames.

The producer (the PortAudio callback) only copies into preallocated memory and then publishes
the new write count; the consumer (the analysis thread) reads behind it. Each counter has one
writer, so no lock is needed: a Python int assignment is atomic, and the count is published
after the samples it covers are in place.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """``capacity`` frames of ``channels`` float32 samples.

    ``written`` and ``read`` count frames since the start; a consumer that falls more than
    ``capacity`` behind loses the oldest frames, counted in ``overflows`` (frames).
    """

    def __init__(self, capacity: int, channels: int):
        self.capacity = capacity
        self._buf = np.zeros((capacity, channels), np.float32)
        self.written = 0
        self.read = 0
        self.overflows = 0

    def write(self, block: np.ndarray) -> None:
        """Producer: append ``block`` (n, channels). No allocation, no lock."""
        n = block.shape[0]
        if n > self.capacity:  # only the newest capacity frames can be kept
            self.written += n - self.capacity
            block, n = block[n - self.capacity:], self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start:start + first] = block[:first]
        if first < n:
            self._buf[:n - first] = block[first:n]
        self.written += n

    def read_into(self, out: np.ndarray, *, limit: int | None = None) -> int:
        """Consumer: copy up to len(out) frames (and up to frame count ``limit``) into ``out``.

        Returns the number of frames copied. Frames overwritten before they were read are
        skipped and counted in ``overflows``.
        """
        written = self.written if limit is None else min(self.written, limit)
        if self.written - self.read > self.capacity:
            lost = self.written - self.read - self.capacity
            self.overflows += lost
            self.read += lost
        n = min(out.shape[0], written - self.read)
        if n <= 0:
            return 0
        start = self.read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._buf[start:start + first]
        if first < n:
            out[first:n] = self._buf[:n - first]
        if self.written - self.read > self.capacity:  # the producer lapped us during the copy
            return self.read_into(out, limit=limit)
        self.read += n
        return n
