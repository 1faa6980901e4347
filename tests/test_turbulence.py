"""The hot phase's turbulence is Ornstein–Uhlenbeck noise with the statistics it promises:
variance T/τ, time correlation e^{−t/τ}, Gaussian spatial correlation over ``correlation_cells``."""

import numpy as np
import pytest

from visualizer.engine.sim.turbulence import Turbulence


@pytest.fixture(scope="module")
def samples():
    turbulence = Turbulence((96, 128), correlation_cells=2.5, correlation_s=0.3, seed=3)
    for _ in range(60):  # one second: the start state is already stationary, this only mixes it
        turbulence.forcing(2.0, 1 / 60)
    return np.array([turbulence.forcing(2.0, 1 / 60).copy() for _ in range(900)])  # 15 s at 60 fps


def test_variance_is_temperature_over_tau(samples):
    assert samples.var() == pytest.approx(2.0 / 0.3, rel=0.05)


def test_time_correlation_decays_as_exp_minus_t_over_tau(samples):
    lag = 18  # 0.3 s = τ
    c = np.corrcoef(samples[:-lag].ravel(), samples[lag:].ravel())[0, 1]
    assert c == pytest.approx(np.exp(-1.0), abs=0.04)
    far = np.corrcoef(samples[:-120].ravel(), samples[120:].ravel())[0, 1]  # 2 s = 6.7 τ
    assert abs(far) < 0.05


def test_space_correlation_is_gaussian_over_the_correlation_length(samples):
    frame = samples[::30]
    near = np.corrcoef(frame[:, :, :-3].ravel(), frame[:, :, 3:].ravel())[0, 1]
    assert near == pytest.approx(np.exp(-9 / (4 * 2.5**2)), abs=0.04)  # smoothed white noise: exp(−r²/4σ²)
    far = np.corrcoef(frame[:, :, :-20].ravel(), frame[:, :, 20:].ravel())[0, 1]
    assert abs(far) < 0.05
