"""DEMO ONLY: stand-ins that make the sample catalog work without real platform services."""
