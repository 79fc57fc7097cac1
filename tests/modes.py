"""The emulated execution modes every guest-running test is parametrised over (issue 5: the
interpreter, JIT and HYBRID must give identical results)."""

import pytest

from polyvm import ExecMode

EMULATED_MODES = (ExecMode.INTERPRETER, ExecMode.JIT, ExecMode.HYBRID)
each_emulated_mode = pytest.mark.parametrize("mode", EMULATED_MODES, ids=lambda mode: mode.value)
"""Decorator: run the test once per emulated mode, as its ``mode`` argument."""
