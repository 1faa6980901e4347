"""Reading a file ahead of its playback: a thread keeps a few seconds of decoded blocks waiting,
so the audio callback copies from memory and never touches the disk or the decoder."""

from __future__ import annotations

import logging
import queue
import threading
import time

import numpy as np

from visualizer.engine.audio.decode import AudioFileError, AudioReader

log = logging.getLogger(__name__)

BLOCK_FRAMES = 8192  # frames per decoded block (≈ 0.19 s at 44.1 kHz)
AHEAD_BLOCKS = 16  # blocks kept waiting (≈ 3 s at 44.1 kHz): a busy disk or machine is ridden out


class Prefetcher:
    """Blocks of ``reader`` decoded ahead on the thread "audio file reader".

    ``take_into(out)`` (the audio callback) fills ``out`` (n, channels) from what is waiting and
    returns the frames it filled; fewer than asked means the file ended (``ended``), or the reader
    fell behind (``starved_frames`` counts them; the rest of ``out`` is left for the caller to
    silence). ``error`` is the one line of a decoding error that ended the file early ("" if none).
    """

    def __init__(self, reader: AudioReader):
        self.reader = reader
        self.ended = False
        self.error = ""
        self.starved_frames = 0
        self._waiting: queue.Queue[np.ndarray | str] = queue.Queue(maxsize=AHEAD_BLOCKS)
        self._block = np.zeros((0, reader.channels), np.float32)
        self._offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_ahead, name="audio file reader", daemon=True)

    def start(self, *, first_block_timeout_s: float = 2.0) -> None:
        """Start reading, and wait (at most ``first_block_timeout_s``) for the first block, so the
        stream does not start on silence."""
        self._thread.start()
        deadline = time.monotonic() + first_block_timeout_s
        while self._waiting.empty() and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _read_ahead(self) -> None:
        try:
            while not self._stop.is_set():
                block = self.reader.read(BLOCK_FRAMES)
                if len(block) == 0:
                    self._put("")
                    return
                self._put(np.ascontiguousarray(block))
        except AudioFileError as e:
            self._put(str(e))
        except Exception as e:  # never silently: the callback ends the file with this line
            log.exception("audio file reader failed")
            self._put(f"{self.reader.path}: reading stopped ({type(e).__name__}: {e})")

    def _put(self, item: np.ndarray | str) -> None:
        """Queue ``item``, waiting for room, unless asked to stop."""
        while not self._stop.is_set():
            try:
                self._waiting.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def take_into(self, out: np.ndarray) -> int:
        """Copy the next frames into ``out``; the number copied (see the class)."""
        done = 0
        while done < len(out) and not self.ended:
            if self._offset >= len(self._block):
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    self.starved_frames += len(out) - done
                    break
                if isinstance(item, str):  # the end of the file: "" or the error's line
                    self.ended, self.error = True, item
                    break
                self._block, self._offset = item, 0
            n = min(len(out) - done, len(self._block) - self._offset)
            out[done:done + n] = self._block[self._offset:self._offset + n]
            self._offset += n
            done += n
        return done

    def close(self) -> None:
        """Stop the reader thread and close the file."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self.reader.close()
