"""The fault table runs: every row of ``python -m devtools.faults`` passes."""

import pytest

from devtools import faults
from devtools.faults_audio import AUDIO_FAULTS


@pytest.mark.parametrize("fault", faults.FAULTS, ids=lambda f: f.__name__)
def test_fault_is_handled(fault, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path))
    row = fault()
    assert row.passed, f"{row.fault}: {row.happened}"


@pytest.mark.parametrize("fault", AUDIO_FAULTS, ids=lambda f: f.__name__)
def test_audio_fault_is_handled(fault, pulse_server):
    """Injected into a real AudioEngine on the session's private PulseAudio server."""
    row = fault(pulse_server)
    assert row.passed, f"{row.fault}: {row.happened}"
