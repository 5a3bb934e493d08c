"""Random draws on the simulator's grid, in two streams.

The story's present (``PRESENT`` on) draws from the stream its seed has always given it, in the
same order and sizes; the years before it draw from a stream of their own. History added before
the present therefore never changes the present: the demo window's figures, and the tests pinned
to them, stay what they were.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

PAST_TAG = 0x9A57  # appended to the present's entropy for the past's stream

Sample = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance AR(1) along axis 0 (x_t = phi x_{t-1} + e_t), by FFT convolution: a Python
    loop over 270k steps would blow the start-up budget."""
    n = shocks.shape[0]
    taps = min(n, int(np.ceil(np.log(1e-9) / np.log(phi))) + 1)
    kernel = phi ** np.arange(taps) * np.sqrt(1.0 - phi * phi)
    size = 1 << (n + taps - 2).bit_length()  # power-of-two FFTs are several times faster
    spectrum = np.fft.rfft(kernel, size).reshape((-1,) + (1,) * (shocks.ndim - 1))
    return np.fft.irfft(np.fft.rfft(shocks, size, axis=0) * spectrum, size, axis=0)[:n]


class Streams:
    """``draw`` and ``ar1`` give ``shape[0]`` points along the grid, the first ``past`` of them
    before the present."""

    def __init__(self, entropy: Sequence[int]) -> None:
        self.present = np.random.default_rng(np.random.SeedSequence(list(entropy)))
        self.past = np.random.default_rng(np.random.SeedSequence([*entropy, PAST_TAG]))

    def draw(self, sample: Sample, shape: tuple[int, ...], past: int) -> np.ndarray:
        present = sample(self.present, (shape[0] - past, *shape[1:]))
        return np.concatenate([sample(self.past, (past, *shape[1:])), present])

    def normal(self, shape: tuple[int, ...], past: int, dtype: type = np.float64) -> np.ndarray:
        return self.draw(lambda rng, size: rng.standard_normal(size, dtype=dtype), shape, past)

    def ar1(self, shape: tuple[int, ...], past: int, phi: float) -> np.ndarray:
        """Unit-variance AR(1) noise. The past runs backwards from the present's first value (a
        stationary AR(1) reads alike both ways), so the series does not jump at the present."""
        present = ar1(self.present.standard_normal((shape[0] - past, *shape[1:])), phi)
        decay = (phi ** np.arange(1, past + 1)).reshape((-1,) + (1,) * (len(shape) - 1))
        backwards = ar1(self.past.standard_normal((past, *shape[1:])), phi) + decay * present[0]
        return np.concatenate([backwards[::-1], present])
