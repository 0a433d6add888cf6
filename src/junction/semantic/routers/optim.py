"""Full-batch Adam for the routers that learn by gradient (logistic, mf): deterministic."""

from __future__ import annotations

import numpy as np

from junction.semantic.dataset import FloatArray


class Adam:
    def __init__(self, params: list[FloatArray], rate: float) -> None:
        self.params = params
        self.rate = rate
        self.first = [np.zeros_like(p) for p in params]
        self.second = [np.zeros_like(p) for p in params]
        self.steps = 0

    def step(self, grads: list[FloatArray]) -> None:
        self.steps += 1
        b1, b2 = 0.9, 0.999
        for p, g, m, v in zip(self.params, grads, self.first, self.second, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat = m / (1 - b1**self.steps)
            v_hat = v / (1 - b2**self.steps)
            p -= self.rate * m_hat / (np.sqrt(v_hat) + 1e-8)


def sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out
