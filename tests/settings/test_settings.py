"""The settings the kernel and the magics share: one parser, one meaning for a bad value."""

from __future__ import annotations

import pytest

from backendai_jupyter.kernel.config import BackendKernelConfig
from backendai_jupyter.settings import SessionTraits, SettingError, parse_pairs, setting_problems


def test_parse_pairs_errors_name_the_value() -> None:
    with pytest.raises(ValueError, match="'nope' is not KEY=VALUE"):
        parse_pairs("a=1,nope", name="-r")
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_pairs("{bad", name="X")


def test_parse_pairs_forms() -> None:
    assert parse_pairs("cpu=1, mem=2g", name="-r") == {"cpu": "1", "mem": "2g"}
    assert parse_pairs(["cpu=1", "mem=2g,gpu=0"], name="-r") == {"cpu": "1", "mem": "2g", "gpu": "0"}
    assert parse_pairs('{"cpu": 2}', name="X") == {"cpu": "2"}
    assert parse_pairs("a=,b=1", name="-e") == {"a": "", "b": "1"}
    with pytest.raises(SettingError, match=r"resource 'a=' is not KEY=VALUE; write it as e.g. cpu=2"):
        parse_pairs("a=", name="resource", example="cpu=2", allow_empty=False)
    with pytest.raises(SettingError, match=r"'\{' is not KEY=VALUE"):
        parse_pairs("{", name="-r", allow_json=False)


def test_a_bad_variable_is_the_same_error_for_kernel_and_magics(monkeypatch: pytest.MonkeyPatch) -> None:
    from backendai_jupyter.magics.magic import BackendMagics

    monkeypatch.setenv("BACKENDAI_JUPYTER_RESOURCES", "cpu")
    errors = []
    for cls in (BackendKernelConfig, BackendMagics, SessionTraits):
        with pytest.raises(SettingError) as info:
            _ = cls().resources
        errors.append(str(info.value))
    assert len(set(errors)) == 1
    assert "BACKENDAI_JUPYTER_RESOURCES 'cpu' is not KEY=VALUE" in errors[0]
    assert setting_problems(BackendMagics())["resources"] == errors[0]


def test_transport_variable_is_read_by_both(monkeypatch: pytest.MonkeyPatch) -> None:
    from backendai_jupyter.magics.magic import BackendMagics

    monkeypatch.setenv("BACKENDAI_JUPYTER_TRANSPORT", "REST")
    assert BackendKernelConfig().transport == BackendMagics().transport == "rest"
    monkeypatch.setenv("BACKENDAI_JUPYTER_TRANSPORT", "pigeon")
    assert (
        "TRANSPORT='pigeon' is not one of auto, websocket, rest"
        in setting_problems(BackendMagics())["transport"]
    )
