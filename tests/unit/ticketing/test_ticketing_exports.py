"""pao_backend.ticketing's public surface is curated: a sorted __all__ naming exactly its public members."""

from __future__ import annotations

import pao_backend.ticketing as ticketing


def test_all_is_sorted_and_names_every_public_member() -> None:
    public = {
        name
        for name, value in vars(ticketing).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("pao_backend.ticketing")
    }
    assert ticketing.__all__ == sorted(ticketing.__all__)
    assert set(ticketing.__all__) == public
