"""Presets: reusable request values per offering, saved without secrets."""

from pao_backend.presets.models import PresetChange, PresetCreate, PresetPage, PresetRead, PresetUpdate
from pao_backend.presets.service import (
    create_preset,
    delete_preset,
    get_preset,
    list_presets,
    update_preset,
)

__all__ = [
    "PresetChange",
    "PresetCreate",
    "PresetPage",
    "PresetRead",
    "PresetUpdate",
    "create_preset",
    "delete_preset",
    "get_preset",
    "list_presets",
    "update_preset",
]
