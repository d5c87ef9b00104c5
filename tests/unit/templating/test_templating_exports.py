from __future__ import annotations

import inspect

import pao_backend.templating as templating


def test_all_is_sorted_and_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(templating).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(templating.__all__) == public
    assert templating.__all__ == sorted(
        templating.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n)
    )
