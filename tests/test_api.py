"""The package's surface: the scripting API at the top, the old import paths, the wheel's contents."""

from __future__ import annotations

import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import visualizer

ROOT = Path(__file__).resolve().parents[1]


def test_the_scripting_api_is_importable_from_the_top_and_runs_a_preset():
    from visualizer import (
        FeatureSnapshot,
        Field,
        FieldConfig,
        Lattice3D,
        Session,
        load_preset,
    )

    assert Field.__module__ == "visualizer.engine.sim.field" and FieldConfig is visualizer.FieldConfig
    assert Lattice3D.__module__ == "visualizer.engine.sim.lattice3d"
    assert load_preset("5meo").base.k1 == 20.0
    session = Session.from_preset("5meo", size=(32, 32), seed=0)
    try:
        state = session.advance(FeatureSnapshot(energy=0.7, bass=0.5, status="script"), 1 / 60)
        assert state.theta.shape == (32, 32) and np.isfinite(state.theta).all()
    finally:
        session.close()
    with pytest.raises(AttributeError):
        visualizer.NoSuchThing  # noqa: B018


def test_import_visualizer_loads_none_of_the_engine():
    code = "import sys, visualizer; print(sorted(m for m in sys.modules if m.startswith(('numba', 'pygame', 'visualizer.'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['visualizer._moved']"


def test_old_import_paths_give_the_same_modules_with_a_deprecation_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import visualizer.audio.features as old_features
        from visualizer.session import Session as old_session
        from visualizer.sim.field import Field as old_field
    import visualizer.engine.audio.features as features
    from visualizer.engine.session import Session
    from visualizer.engine.sim.field import Field

    assert old_session is Session and old_field is Field and old_features is features
    assert any(issubclass(w.category, DeprecationWarning) and "visualizer.engine.session" in str(w.message)
               for w in caught)


def test_the_wheel_ships_the_program_presets_and_assets_but_no_developer_tools(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("visualizer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "visualizer/cli.py" in names and "visualizer/engine/session.py" in names
    assert "visualizer/presets/5meo.toml" in names and "visualizer/assets/demo.flac" in names
    assert not [n for n in names if n.startswith(("devtools/", "tests/")) or "/tools/" in n]
