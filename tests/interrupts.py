"""Injected interrupts shared by the robustness and CLI tests."""

from __future__ import annotations

import pytest
import torch


def ctrl_c_inside_lbfgs_step(mp: pytest.MonkeyPatch, call: int) -> None:
    """Ctrl-C lands in L-BFGS step ``call`` after the objective ran: the optimiser is mid-update."""
    calls = {"n": 0}
    original = torch.optim.LBFGS.step

    def step(self, closure):
        calls["n"] += 1
        if calls["n"] == call:
            closure()
            raise KeyboardInterrupt
        return original(self, closure)

    mp.setattr(torch.optim.LBFGS, "step", step)
