"""The eigenmodes of the field's current coupling operator, kept up to date off the render thread:
computed in a child process (``MODES_PROCESS``) by a worker thread when the kernel changes enough,
the last set standing in meanwhile, graph modes cached on disk between runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.background.worker_process import WorkerProcess
from visualizer.engine.sim.harmonics import (
    Harmonics,
    graph_harmonics,
    graph_laplacian,
    kernel_weights,
    lattice_harmonics,
)
from visualizer.system.paths import user_cache_dir

log = logging.getLogger(__name__)

# LOBPCG costs ~10 s at 256² (20 iterations, 48 modes) and grows faster than the cell count; above
# this the lattice modes (exact for the lattice part of the graph) are used instead
GRAPH_MODES_MAX_CELLS = 256 * 256


def cache_dir() -> Path:
    """Where computed graph eigenmodes are kept between runs."""
    return user_cache_dir() / "eigenmodes"


KERNEL_QUANTUM = 2.5  # couplings are rounded to this (rad/s) before the eigenmodes are recomputed
CACHED_MODES_BYTES = 128 << 20  # computed sets kept in memory per cache (graph modes: 12.6 MB at 256²)


@dataclass(frozen=True)
class ModesRequest:
    """What fixes a set of eigenmodes: the grid, the neighbourhood, the kernel (rounded to
    KERNEL_QUANTUM) and the small-world targets (by digest)."""

    height: int
    width: int
    neighborhood: str
    boundary: str
    count: int
    k: tuple[float, float, float, float]
    k_sw: float
    links_digest: str


def lattice_modes_for(r: ModesRequest, links: np.ndarray) -> Harmonics:
    """The lattice part's modes for request ``r`` (exact on a torus; the graph's start vectors)."""
    weights, _ = kernel_weights(r.k, r.k_sw, neighborhood=r.neighborhood, links=links.shape[1])
    return lattice_harmonics(r.height, r.width, neighborhood=r.neighborhood, boundary=r.boundary,
                             count=r.count, weights=weights)


def compute_modes(r: ModesRequest, links: np.ndarray, *, folder: Path | None = None) -> Harmonics:
    """The eigenmodes for request ``r`` with small-world targets ``links`` (H·W, L): the lattice
    modes when there are no links (or no small-world coupling, or the grid is too large), else the
    graph's, from the disk cache in ``folder`` (default ``cache_dir()``) or by LOBPCG (then
    written to it)."""
    lattice = lattice_modes_for(r, links)
    if links.shape[1] == 0 or r.height * r.width > GRAPH_MODES_MAX_CELLS or r.k_sw == 0.0 and r.k is not None:
        return lattice
    path = (folder or cache_dir()) / f"{hashlib.sha1(repr(r).encode()).hexdigest()[:20]}.npz"
    try:
        with np.load(path) as f:
            return Harmonics(f["eigenvalues"], "graph", stored=f["modes"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as e:
        if path.exists():
            log.warning("eigenmode cache %s unreadable (%s): recomputing", path, e)
    weights, sw_weight = kernel_weights(r.k, r.k_sw, neighborhood=r.neighborhood, links=links.shape[1])
    laplacian = graph_laplacian(r.height, r.width, neighborhood=r.neighborhood, boundary=r.boundary,
                                small_world=links, weights=weights, small_world_weight=sw_weight)
    result = graph_harmonics(laplacian, lattice)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")  # a run cut short leaves no torn file
        np.savez(partial, modes=result.modes, eigenvalues=result.eigenvalues)
        os.replace(partial, path)
    except OSError as e:
        log.warning("could not cache eigenmodes in %s: %s", path.parent, e)
    return result


MODES_PROCESS = WorkerProcess(f"{__name__}:compute_modes")  # the one eigenmode child of this process


class HarmonicsCache:
    """The eigenmodes of the field's current coupling operator, recomputed when the kernel changes
    enough: in the background by default (a thread hands requests to the child process of
    ``MODES_PROCESS`` and waits; the last modes stand in meanwhile; only the lattice modes of the
    very first set for a grid are computed on the caller's thread), or all on the caller's thread
    when ``synchronous`` (headless runs that must repeat exactly: trace, render, tests). Graph
    modes (with small-world links) are cached on disk. A failure is logged once, shown in
    ``status``, and not retried for the same request; the modes in use stay."""

    def __init__(self, *, synchronous: bool = False) -> None:
        self.synchronous = synchronous  # compute on the caller's thread: slower, but deterministic
        self._compute = compute_modes if synchronous else self._compute_in_child
        self._done: dict[ModesRequest, Harmonics] = {}
        self._lock = threading.Lock()
        self._wanted: ModesRequest | None = None
        self._failed: set[ModesRequest] = set()  # requests whose computation failed: not retried
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._links: dict[int, tuple[np.ndarray, np.ndarray, str]] = {}  # id → (array, copy, digest)
        self._current: dict[tuple, Harmonics] = {}  # grid key → the modes handed out last
        self.status = ""

    @property
    def busy(self) -> bool:
        """Eigenmodes are being computed (``get`` hands out the previous ones meanwhile)."""
        with self._lock:
            return self._busy or self._wanted is not None

    def _digest(self, small_world: np.ndarray) -> tuple[np.ndarray, str]:
        known = self._links.get(id(small_world))
        if known is None or known[0] is not small_world:  # the field replaces the array on change
            copy = small_world.copy()
            known = (small_world, copy, hashlib.sha1(copy.tobytes()).hexdigest()[:20])
            self._links = {id(small_world): known}
        return known[1], known[2]

    def get(self, *, height: int, width: int, neighborhood: str, boundary: str, count: int,
            small_world: np.ndarray, k: tuple[float, float, float, float] | None = None,
            k_sw: float = 0.0) -> Harmonics:
        """The eigenmodes for this grid and kernel (``k`` None: the plain graph Laplacian's)."""
        if k is not None:
            k = tuple(KERNEL_QUANTUM * round(v / KERNEL_QUANTUM) for v in k)
            k_sw = KERNEL_QUANTUM * round(k_sw / KERNEL_QUANTUM)
        links, digest = self._digest(small_world)
        request = ModesRequest(height, width, neighborhood, boundary, count, k, k_sw, digest)
        grid = (height, width, neighborhood, boundary, count)
        if self.synchronous:
            if request not in self._done:
                self._done[request] = self._compute(request, links)
                self._forget_oldest()
            return self._done[request]
        with self._lock:
            ready = self._done.get(request)
            if ready is None and grid in self._current:
                if self._wanted != request and request not in self._failed:
                    self._wanted, self._wanted_links = request, links
                    self._wake.set()
                self._start()
                return self._current[grid]
        if ready is None:  # the first modes for this grid: the lattice part now, the rest behind
            ready = lattice_modes_for(request, links)
            with self._lock:
                self._wanted, self._wanted_links = request, links
                self._wake.set()
                self._start()
        with self._lock:
            self._current[grid] = ready
        return ready

    def _forget_oldest(self) -> None:
        """Drop the oldest sets while the kept ones exceed CACHED_MODES_BYTES (the newest stays)."""
        while len(self._done) > 1 and sum(h.nbytes for h in self._done.values()) > CACHED_MODES_BYTES:
            self._done.pop(next(iter(self._done)))

    @staticmethod
    def _compute_in_child(r: ModesRequest, links: np.ndarray) -> Harmonics:
        return MODES_PROCESS.call(r, links, folder=cache_dir())  # the cache dir as of now

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._work, name="eigenmodes", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            with self._lock:
                request, links = self._wanted, getattr(self, "_wanted_links", None)
                self._wanted = None
                self._wake.clear()
                self._busy = request is not None
            if request is None:
                continue
            try:
                result = self._compute(request, links)
            except Exception as e:  # noqa: BLE001 — shown, logged once, the old modes stay in use
                if not self.status:
                    log.exception("eigenmodes failed; keeping the previous ones")
                self.status = f"eigenmodes failed: {e}"
                result = None
            with self._lock:
                if result is None:
                    self._failed.add(request)
                else:
                    self._done[request] = result
                    self._forget_oldest()
                    self._current[request.height, request.width, request.neighborhood, request.boundary,
                                  request.count] = result
                self._busy = False

    def close(self, timeout_s: float = 0.5) -> None:
        """Stop the worker thread; waits up to ``timeout_s``. A computation in flight is not
        waited for: it runs to its end in the child process and is dropped (the thread waiting for
        it is a daemon), so quitting never waits seconds for it."""
        with self._lock:
            self._wanted = None  # nothing more is asked for: busy only while a computation runs
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.info("eigenmodes still computing at close: left to end with the process")
