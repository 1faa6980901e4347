"""Natural frequencies: spatially autocorrelated noise scaled to a mean and a spread."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def natural_frequencies(
    *,
    height: int,
    width: int,
    mean_rad_s: float,
    spread_rad_s: float,
    correlation_cells: float,
    wrap: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Smoothed white noise with a given mean and standard deviation.

    Parameters
    ----------
    mean_rad_s, spread_rad_s : mean and standard deviation of ω (rad/s).
    correlation_cells : Gaussian smoothing radius (sigma, in cells); 0 gives white noise.
    wrap : smooth across the edges (torus) or not.

    Returns
    -------
    omega : float32 array, shape (height, width), rad/s.
    """
    noise = rng.standard_normal((height, width))
    if correlation_cells > 0:
        noise = gaussian_filter(noise, sigma=correlation_cells, mode="wrap" if wrap else "reflect")
    std = noise.std()
    unit = (noise - noise.mean()) / std if std > 0 else np.zeros_like(noise)
    return (mean_rad_s + spread_rad_s * unit).astype(np.float32)
