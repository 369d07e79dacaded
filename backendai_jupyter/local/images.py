"""Image references: the interpreter serving one, and the ``registry/project/name:tag`` a manager reports."""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping

from .problems import Problem

__all__ = [
    "DEFAULT_PROJECT",
    "DEFAULT_REGISTRY",
    "canonical_image",
    "default_tag",
    "image_registry",
    "resolve_image",
]

#: where a reference without a registry is taken to live (the public Backend.AI registry, as on real clusters)
DEFAULT_REGISTRY = "cr.backend.ai"
#: the project of a bare name such as ``python`` (``cr.backend.ai/stable/python``)
DEFAULT_PROJECT = "stable"


def default_tag() -> str:
    """The tag an untagged reference stands for: the interpreter serving the endpoint, on the usual base."""
    return f"{sys.version_info.major}.{sys.version_info.minor}-ubuntu22.04"


def _has_registry(first: str) -> bool:
    # the docker rule: a first path part with a dot or a port, or "localhost", names a registry host
    return "." in first or ":" in first or first == "localhost"


def canonical_image(reference: str) -> str:
    """``reference`` as ``registry/project/name:tag``; ``python`` -> ``cr.backend.ai/stable/python:3.11-...``.

    The local endpoint runs every Python image on one interpreter, so an alias has no record of its own: the
    canonical form is derived. An explicit registry, project or tag in ``reference`` is kept as given.
    """
    first, slash, rest = reference.partition("/")
    if slash and _has_registry(first):
        registry, path = first, rest
    else:
        registry, path = DEFAULT_REGISTRY, reference
    name, colon, tag = path.partition(":")
    if "/" not in name:
        name = f"{DEFAULT_PROJECT}/{name}"
    return f"{registry}/{name}:{tag if colon and tag else default_tag()}"


def image_registry(reference: str) -> str:
    """The registry part of the canonical form of ``reference`` (``cr.backend.ai``)."""
    return canonical_image(reference).partition("/")[0]


def resolve_image(images: Mapping[str, str], image: str) -> str:
    """The python executable of ``image`` (first matching pattern); 404 for an unknown image."""
    for pattern, python in images.items():
        if fnmatch.fnmatchcase(image, pattern):
            return python
    raise Problem.not_found("No such environment image.", msg=f"{image!r} is not served here; try 'python'.")
