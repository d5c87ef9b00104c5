"""The presets package's public surface is exactly its sorted `__all__`."""

from __future__ import annotations

import pao_backend.presets as presets


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(presets) if not name.startswith("_")}
    modules = {"compare", "models", "repository", "service", "tables"}
    assert sorted(presets.__all__) == presets.__all__
    assert set(presets.__all__) == public - modules
