"""A small learned beat activation, run causally one hop at a time in NumPy (no torch at run time).

Input per hop: the beat onset envelope's 64 log-mel bands (dB, :class:`BeatOnsetEnvelope`), as
their per-band SuperFlux rise (onsets) and their spectral shape (dB below the loudest band:
timbre, level-free). A dense layer, one GRU layer and a dense output give the probability that
a beat falls on this hop. The weights (``beat_model.npz``, beside this module) are trained by
``python -m devtools.train_beats`` on MIDI we write ourselves, rendered with FluidSynth's
FluidR3_GM soundfont (MIT), with speech, noise, pads and unpulsed notes as negatives.

``beat_model.npz`` (round eight, docs/lab/ears.md) both gates presence and, where it is more
periodic than the onset envelope, shares the filter's observation (``BeatConfig.learned_weight``);
it was fine-tuned from ``backbeat_model.npz`` on 300 songs, 400 backbeat grooves and 60 negatives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("beat_model.npz")  # presence: does this sound have a beat?
# the same network fine-tuned with backbeat grooves (funk, hip-hop, bossa, samba, reggaeton, EDM):
# where on the beat it falls, for the tracker's half-beat move
BACKBEAT_MODEL_PATH = Path(__file__).with_name("backbeat_model.npz")
SHAPE_FLOOR_DB = 60.0  # spectral shape: dB below the loudest band, clipped here


def model_input(rise: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """The network's input for one hop, shape (2 · n_bands,): the SuperFlux rise (dB / 10) and
    the spectral shape (0 at the loudest band, −1 at ``SHAPE_FLOOR_DB`` below it)."""
    shape = np.maximum(bands - bands.max(), -SHAPE_FLOOR_DB) / SHAPE_FLOOR_DB
    return np.concatenate([np.minimum(rise, 30.0) / 10.0, shape]).astype(np.float32)


def model_available(path: Path = MODEL_PATH) -> bool:
    return path.is_file()


class BeatActivation:
    """``step(x)`` with :func:`model_input`'s vector → beat probability of this hop (0..1).

    The network: h = relu(W_in x + b_in); a GRU cell (PyTorch's gate layout r, z, n) over h;
    p = sigmoid(w_out · [g, h] + b_out).
    """

    def __init__(self, path: Path = MODEL_PATH):
        with np.load(path) as w:
            self._w_in, self._b_in = w["w_in"].astype(np.float32), w["b_in"].astype(np.float32)
            self._w_ih, self._b_ih = w["w_ih"].astype(np.float32), w["b_ih"].astype(np.float32)
            self._w_hh, self._b_hh = w["w_hh"].astype(np.float32), w["b_hh"].astype(np.float32)
            self._w_out, self._b_out = w["w_out"].astype(np.float32), float(w["b_out"][0])
        self._hidden = np.zeros(self._w_hh.shape[1], np.float32)
        self.value = 0.0

    def reset(self) -> None:
        self._hidden[:] = 0.0
        self.value = 0.0

    def step(self, x: np.ndarray) -> float:
        h = np.maximum(self._w_in @ x + self._b_in, 0.0)
        n = self._hidden.size
        gi = self._w_ih @ h + self._b_ih
        gh = self._w_hh @ self._hidden + self._b_hh
        r = 1.0 / (1.0 + np.exp(-(gi[:n] + gh[:n])))
        z = 1.0 / (1.0 + np.exp(-(gi[n:2 * n] + gh[n:2 * n])))
        cand = np.tanh(gi[2 * n:] + r * gh[2 * n:])
        self._hidden = (1.0 - z) * cand + z * self._hidden
        logit = float(self._w_out @ np.concatenate([self._hidden, h])) + self._b_out
        self.value = 1.0 / (1.0 + np.exp(-max(min(logit, 30.0), -30.0)))
        return self.value
