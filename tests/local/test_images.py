"""Canonical image references: what the local endpoint reports for an alias or a short name."""

from __future__ import annotations

import sys

import pytest

from backendai_jupyter.local.images import canonical_image, image_registry

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize(
    ("reference", "canonical"),
    [
        ("python", f"cr.backend.ai/stable/python:{PY}-ubuntu22.04"),
        ("python:3.9-ubuntu20.04", "cr.backend.ai/stable/python:3.9-ubuntu20.04"),
        ("stable/python", f"cr.backend.ai/stable/python:{PY}-ubuntu22.04"),
        ("lablup/python:3.8", "cr.backend.ai/lablup/python:3.8"),
        ("cr.backend.ai/stable/python:3.9-ubuntu20.04", "cr.backend.ai/stable/python:3.9-ubuntu20.04"),
        ("registry.example.com:5000/a/b/python:2", "registry.example.com:5000/a/b/python:2"),
        ("localhost/python:1", "localhost/stable/python:1"),
        ("python:", f"cr.backend.ai/stable/python:{PY}-ubuntu22.04"),
    ],
)
def test_canonical_image(reference: str, canonical: str) -> None:
    assert canonical_image(reference) == canonical
    # canonical is a fixed point: feeding it back (as users copy it from `session info`) changes nothing
    assert canonical_image(canonical) == canonical


def test_image_registry() -> None:
    assert image_registry("python") == "cr.backend.ai"
    assert image_registry("registry.example.com:5000/x/python:3") == "registry.example.com:5000"
