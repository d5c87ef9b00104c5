"""PAO, the Platform Automation Orchestrator."""

__version__ = "0.1.0"
