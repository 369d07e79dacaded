"""Install, list and remove the "Backend.AI (remote)" kernelspecs; stale specs of ours are replaced."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

__all__ = [
    "DEFAULT_DISPLAY_NAME",
    "DEFAULT_NAME",
    "MARKER",
    "InstalledSpec",
    "install",
    "kernel_json",
    "list_specs",
    "uninstall",
]

DEFAULT_NAME = "backendai"
DEFAULT_DISPLAY_NAME = "Backend.AI (remote)"
#: Key in kernel.json ``metadata`` that marks a spec as ours (so that we never touch anyone else's).
MARKER = "backendai_jupyter"
_MODULE = "backendai_jupyter.kernel"
_LOGOS = ("logo-32x32.png", "logo-64x64.png")


@dataclass(frozen=True)
class InstalledSpec:
    """One kernelspec of ours found on disk."""

    name: str
    display_name: str
    path: Path
    argv: tuple[str, ...]

    @property
    def stale(self) -> bool:
        """True when the interpreter it starts no longer exists (e.g. a deleted virtualenv)."""
        exe = self.argv[0] if self.argv else ""
        return bool(exe) and Path(exe).is_absolute() and not Path(exe).exists()


def _trait_args(
    *,
    image: str | None,
    resources: Mapping[str, str],
    mounts: Sequence[str],
    environ: Mapping[str, str],
) -> list[str]:
    args = []
    if image:
        args.append(f"--BackendKernel.image={image}")
    args += [f"--BackendKernel.resources={k}={v}" for k, v in resources.items()]
    args += [f"--BackendKernel.mounts={m}" for m in mounts]
    args += [f"--BackendKernel.environ={k}={v}" for k, v in environ.items()]
    return args


def kernel_json(
    display_name: str = DEFAULT_DISPLAY_NAME,
    *,
    executable: str | None = None,
    image: str | None = None,
    resources: Mapping[str, str] | None = None,
    mounts: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The kernel.json content; settings travel as ``--BackendKernel.<trait>=...`` arguments."""
    argv = [executable or sys.executable, "-m", _MODULE, "-f", "{connection_file}"]
    argv += _trait_args(image=image, resources=resources or {}, mounts=mounts, environ=environ or {})
    return {
        "argv": argv,
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {MARKER: {"image": image or ""}, "debugger": False},
    }


def _logo_dir() -> Path | None:
    """The packaged kernelspec folder (source checkout), holding the logos."""
    here = Path(__file__).resolve().parent.parent.parent / "kernelspec" / DEFAULT_NAME
    return here if here.is_dir() else None


def _write_logos(dest: Path) -> None:
    src = _logo_dir()
    if src is not None:
        for logo in _LOGOS:
            if (src / logo).is_file():
                shutil.copyfile(src / logo, dest / logo)
        return
    # installed from a wheel: take the logos from the shared-data copy of the default spec, if any
    try:
        shared = Path(KernelSpecManager().get_kernel_spec(DEFAULT_NAME).resource_dir)
    except NoSuchKernel:
        return
    for logo in _LOGOS:
        if (shared / logo).is_file() and shared != dest:
            shutil.copyfile(shared / logo, dest / logo)


def _read_spec(path: Path) -> InstalledSpec | None:
    try:
        data = json.loads((path / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    argv = data.get("argv") or []
    ours = MARKER in (data.get("metadata") or {}) or _MODULE in argv
    if not ours:
        return None
    return InstalledSpec(
        name=path.name, display_name=str(data.get("display_name", "")), path=path, argv=tuple(map(str, argv))
    )


def list_specs(manager: KernelSpecManager | None = None) -> list[InstalledSpec]:
    """Every kernelspec of ours in every kernel directory Jupyter searches (shadowed ones included)."""
    manager = manager or KernelSpecManager()
    found: list[InstalledSpec] = []
    for kernel_dir in manager.kernel_dirs:
        base = Path(kernel_dir)
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            spec = _read_spec(child) if child.is_dir() else None
            if spec is not None:
                found.append(spec)
    return found


def _remove(path: Path) -> bool:
    try:
        shutil.rmtree(path)
    except OSError:
        return False  # not ours to remove (e.g. a read-only system dir): leave it, never fail the install
    return True


def install(
    name: str = DEFAULT_NAME,
    *,
    display_name: str | None = None,
    user: bool = False,
    prefix: str | None = None,
    image: str | None = None,
    resources: Mapping[str, str] | None = None,
    mounts: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    executable: str | None = None,
) -> tuple[Path, list[Path]]:
    """Write the kernelspec; return its path and the stale or duplicate specs of ours that were removed."""
    if not name or not all(c.isalnum() or c in "-._" for c in name):
        raise ValueError(f"kernel name {name!r} is invalid; use letters, digits, '-', '.' or '_'")
    if display_name is None:
        display_name = DEFAULT_DISPLAY_NAME if name == DEFAULT_NAME else f"{DEFAULT_DISPLAY_NAME} {name}"
    manager = KernelSpecManager()
    spec = kernel_json(
        display_name, executable=executable, image=image, resources=resources, mounts=mounts, environ=environ
    )
    with tempfile.TemporaryDirectory(prefix="backendai-kernelspec-") as tmp:
        src = Path(tmp) / name
        src.mkdir()
        (src / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        _write_logos(src)
        dest = Path(manager.install_kernel_spec(str(src), name, user=user, prefix=prefix))
    removed = []
    for other in list_specs(manager):
        if other.path.resolve() == dest.resolve():
            continue
        duplicate = other.display_name == display_name and other.name != name
        if (other.stale or duplicate) and _remove(other.path):
            removed.append(other.path)
    return dest, removed


def uninstall(name: str = DEFAULT_NAME) -> list[Path]:
    """Remove every kernelspec of ours called ``name``; return the removed paths."""
    removed = [spec.path for spec in list_specs() if spec.name == name and _remove(spec.path)]
    if not removed:
        ours = sorted({spec.name for spec in list_specs()})
        hint = f"installed: {', '.join(ours)}" if ours else "none is installed"
        raise LookupError(f"no Backend.AI kernelspec named {name!r} ({hint})")
    return removed
