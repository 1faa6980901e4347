"""The fault table runs: every row of ``python -m visualizer.tools.faults`` passes."""

import pytest

from visualizer.tools import faults


@pytest.mark.parametrize("fault", faults.FAULTS, ids=lambda f: f.__name__)
def test_fault_is_handled(fault, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path))
    row = fault()
    assert row.passed, row
