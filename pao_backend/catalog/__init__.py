"""Catalog documents: models, YAML loading with positions, schema and rule validation, the in-memory store.

Import from the modules (`pao_backend.catalog.loader`, `.service`, ...); this package exports nothing so
that importing one module never drags in the others.
"""
