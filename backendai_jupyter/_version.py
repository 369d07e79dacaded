"""The package's version: one module every layer may import (the package itself loads the magics)."""

from __future__ import annotations

__version__ = "0.1.0"
