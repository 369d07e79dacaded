"""``backendai_jupyter.sdk`` loads names on first use: errors and settings cost no aiohttp import."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import backendai_jupyter.sdk as sdk
from backendai_jupyter import wire
from backendai_jupyter.sdk.resources.events import STATUS_EVENTS


def run_isolated(code: str) -> None:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "code",
    [
        "import backendai_jupyter.sdk; from backendai_jupyter.sdk import NotFoundError",
        "import backendai_jupyter.sdk.errors",
        "import backendai_jupyter.sdk.types",
        "from backendai_jupyter.sdk import APIConfig, RetryPolicy, Response, UNSET, get_config",
    ],
)
def test_errors_types_and_config_load_without_aiohttp(code: str) -> None:
    run_isolated(
        f"{code}; import sys; assert 'aiohttp' not in sys.modules, 'aiohttp was imported'; "
        "assert 'backendai_jupyter.sdk.client' not in sys.modules, 'sdk.client was imported'"
    )


def test_client_names_still_load() -> None:
    run_isolated(
        "from backendai_jupyter.sdk import AsyncClient, Client; import sys; assert 'aiohttp' in sys.modules"
    )


def test_every_public_name_resolves_to_its_module_object() -> None:
    assert set(sdk.__all__) == set(sdk._WHERE)
    assert len(sdk.__all__) == len(set(sdk.__all__))
    for name in sdk.__all__:
        source = importlib.import_module(f"backendai_jupyter.sdk.{sdk._WHERE[name]}")
        assert getattr(sdk, name) is getattr(source, name), name
    assert set(sdk.__all__) <= set(dir(sdk))


def test_old_import_paths_keep_working() -> None:
    from backendai_jupyter.sdk.client import UNSET, AsyncClient, RateLimit, Response
    from backendai_jupyter.sdk.response import UNSET as UNSET2
    from backendai_jupyter.sdk.response import RateLimit as RateLimit2
    from backendai_jupyter.sdk.response import Response as Response2

    assert (UNSET, RateLimit, Response) == (UNSET2, RateLimit2, Response2)
    assert AsyncClient is sdk.AsyncClient


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = sdk.Nope  # type: ignore[attr-defined]
    assert not hasattr(sdk, "Nope")


def test_status_events_invert_the_wire_table() -> None:
    for event, status in wire.EVENT_STATUS.items():
        assert event in STATUS_EVENTS[status]
    assert sum(len(events) for events in STATUS_EVENTS.values()) == len(wire.EVENT_STATUS)
    assert STATUS_EVENTS["RUNNING"] == frozenset({"session_started", "kernel_started"})
    # the hand-written table lacked this one: wait_until(..., ["CREATING"]) waited for an event "CREATING"
    assert STATUS_EVENTS["CREATING"] == frozenset({"kernel_creating"})
