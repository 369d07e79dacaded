"""backendai-jupyter: run notebooks on Backend.AI compute sessions."""

__version__ = "0.1.0"

__all__ = ["__version__"]
