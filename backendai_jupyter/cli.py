"""The ``backendai-jupyter`` command: kernelspecs, running notebooks, the local endpoint, client config."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._version import __version__
from .settings import SettingError, parse_pairs

__all__ = ["CliError", "build_parser", "main"]

#: Environment variables that, when any is set, mean "an endpoint or keys are configured" (no fallback).
_CONFIG_VARS = (
    "BACKEND_ENDPOINT",
    "SORNA_ENDPOINT",
    "BACKEND_ACCESS_KEY",
    "SORNA_ACCESS_KEY",
    "BACKEND_SECRET_KEY",
    "SORNA_SECRET_KEY",
    "BACKENDAI_JUPYTER_ENDPOINT",
)
_SECRET_FIELDS = ("secret_key",)


class CliError(Exception):
    """A user mistake or an unmet precondition: printed as one line, exit status 2 (usage) or 1."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        try:
            result.update(parse_pairs(value, name=option, example=f"{option} cpu=1,mem=2g"))
        except SettingError as exc:
            raise CliError(str(exc), status=2) from None
    return result


# ----------------------------------------------------------------------------------------------- kernelspecs


def _cmd_install(args: argparse.Namespace) -> int:
    from .kernel import kernelspec

    user = args.user
    prefix = args.prefix
    if args.sys_prefix:
        prefix = sys.prefix
    if not user and prefix is None:
        # default: the active virtualenv/conda env if any, else the per-user folder (never needs root)
        in_env = sys.prefix != getattr(sys, "base_prefix", sys.prefix) or "CONDA_PREFIX" in os.environ
        prefix, user = (sys.prefix, False) if in_env else (None, True)
    try:
        dest, removed = kernelspec.install(
            args.name,
            display_name=args.display_name,
            user=user,
            prefix=prefix,
            image=args.image,
            resources=_pairs(args.resource, "-r"),
            mounts=args.mount,
            environ=_pairs(args.env, "-e"),
        )
    except ValueError as exc:
        raise CliError(str(exc), status=2) from None
    except OSError as exc:
        raise CliError(f"cannot write the kernelspec ({exc}); try --user or --prefix DIR") from None
    for path in removed:
        print(f"removed stale kernelspec {path}")
    print(f"installed kernelspec {args.name!r} in {dest}")
    return 0


def _cmd_uninstall(args: argparse.Namespace) -> int:
    from .kernel import kernelspec

    try:
        removed = kernelspec.uninstall(args.name)
    except LookupError as exc:
        raise CliError(str(exc)) from None
    for path in removed:
        print(f"removed kernelspec {path}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .kernel import kernelspec

    specs = kernelspec.list_specs()
    if not specs:
        print("no Backend.AI kernelspec installed; run: backendai-jupyter install")
        return 0
    width = max(len(s.name) for s in specs)
    for spec in specs:
        note = "  (stale: its Python is gone)" if spec.stale else ""
        print(f"{spec.name:<{width}}  {spec.display_name}  {spec.path}{note}")
    return 0


# ----------------------------------------------------------------------------------------------- run


def _configured() -> bool:
    """True when an endpoint or keys are configured anywhere we look (environment, client config)."""
    if any(os.environ.get(var) for var in _CONFIG_VARS):
        return True
    try:
        from .sdk import config as sdk_config

        conf = sdk_config.APIConfig()
    except Exception:  # an unreadable config counts as configured: the kernel reports the real problem
        return True
    return any(conf.source_of(name) != "default" for name in ("endpoint", "access_key", "secret_key"))


@contextmanager
def _embedded_endpoint(data_dir: Path | None) -> Iterator[None]:
    """Start the local endpoint on a free loopback port and point ``BACKEND_*`` at it for the kernel."""
    from .local.config import LocalConfig, default_data_dir
    from .local.server import LocalEndpointThread

    config = LocalConfig(data_dir=data_dir or default_data_dir(), host="127.0.0.1", port=0)
    endpoint = LocalEndpointThread(config)
    endpoint.start()
    saved = {
        k: os.environ.get(k)
        for k in ("BACKEND_ENDPOINT", "BACKEND_ENDPOINT_TYPE", "BACKEND_ACCESS_KEY", "BACKEND_SECRET_KEY")
    }
    try:
        os.environ.update(
            BACKEND_ENDPOINT=endpoint.url,
            BACKEND_ENDPOINT_TYPE="api",
            BACKEND_ACCESS_KEY=endpoint.access_key,
            BACKEND_SECRET_KEY=endpoint.secret_key,
        )
        print(
            f"no Backend.AI endpoint configured: using the embedded local endpoint at {endpoint.url} "
            f"(data in {config.data_dir})",
            file=sys.stderr,
        )
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        endpoint.stop()


@contextmanager
def _kernel_available(name: str, explicit: bool) -> Iterator[None]:
    """Make sure kernelspec ``name`` exists; the default one is provided in a temporary folder if missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from .kernel import kernelspec

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        if explicit and name != kernelspec.DEFAULT_NAME:
            raise CliError(f"no kernelspec named {name!r}; see: jupyter kernelspec list") from None
    else:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="backendai-kernels-") as tmp:
        old = os.environ.get("JUPYTER_PATH")
        kernels = Path(tmp) / "kernels" / name
        kernels.mkdir(parents=True)
        import json

        spec = kernelspec.kernel_json(kernelspec.DEFAULT_DISPLAY_NAME)
        (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (tmp, old) if p)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


def _failed_cell(nb: Any) -> str | None:
    """A one-line description of the first failing cell not tagged ``raises-exception``."""
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index + 1} failed: {output.get('ename')}: {output.get('evalue')}"
    return None


def _cmd_run(args: argparse.Namespace) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    source = Path(args.notebook)
    if not source.is_file():
        raise CliError(f"notebook {str(source)!r} not found", status=2)
    output = Path(args.output) if args.output else source.with_name(f"{source.stem}.out{source.suffix}")
    try:
        nb = nbformat.read(source, as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise CliError(f"cannot read {str(source)!r} as a notebook: {exc}", status=2) from None
    kernel_name = args.kernel or "backendai"
    embedded = _embedded_endpoint(None) if not _configured() else _nothing()
    failure: str | None = None
    with embedded, _kernel_available(kernel_name, explicit=args.kernel is not None):
        client = NotebookClient(
            nb,
            kernel_name=kernel_name,
            timeout=args.timeout if args.timeout > 0 else None,
            startup_timeout=120,
            allow_errors=False,
            resources={"metadata": {"path": str(source.parent.resolve())}},
        )
        try:
            client.execute()
        except CellExecutionError:
            failure = _failed_cell(nb) or "a cell failed"
        except DeadKernelError as exc:
            failure = f"the kernel died: {exc}"
        except TimeoutError as exc:
            failure = f"a cell timed out ({exc}); raise --timeout"
        except RuntimeError as exc:  # nbclient's "Kernel didn't respond in N seconds" and the like
            failure = f"the kernel {kernel_name!r} could not run the notebook: {exc}"
    nbformat.write(nb, output)  # type: ignore[no-untyped-call]
    print(f"wrote {output}")
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# ---------------------------------------------------------------------------------------- local, config


def _cmd_local(args: argparse.Namespace) -> int:
    from .local.__main__ import main as local_main

    argv = []
    if args.host:
        argv += ["--host", args.host]
    if args.port is not None:
        argv += ["--port", str(args.port)]
    if args.data_dir:
        argv += ["--data-dir", args.data_dir]
    result = local_main(argv)
    return int(result or 0)


def _shown(name: str, value: Any) -> str:
    if name in _SECRET_FIELDS:
        return "***** (set)" if value else "(not set)"  # not even a prefix of a secret is printed
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def _cmd_config(args: argparse.Namespace) -> int:
    from .sdk import config as sdk_config
    from .sdk.errors import BackendClientError

    try:
        conf = sdk_config.APIConfig()
    except BackendClientError as exc:
        raise CliError(str(exc)) from None
    names = (
        "endpoint",
        "endpoint_type",
        "version",
        "domain",
        "group",
        "access_key",
        "secret_key",
        "hash_type",
        "vfolder_mounts",
        "skip_sslcert_validation",
        "connection_timeout",
        "read_timeout",
    )
    for name in names:
        print(f"{name:<24}{_shown(name, getattr(conf, name))}  ({conf.source_of(name)})")
    if not _configured():
        print("# nothing configured: `backendai-jupyter run` would use the embedded local endpoint")
    return 0


# ----------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the command."""
    parser = argparse.ArgumentParser(
        prog="backendai-jupyter", description="Jupyter on Backend.AI compute sessions."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("install", help="install a 'Backend.AI (remote)' kernelspec")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument("--sys-prefix", action="store_true", help="install into sys.prefix (the active env)")
    where.add_argument("--prefix", metavar="P", help="install into the prefix P")
    p.add_argument("--name", default="backendai", help="kernelspec name (default: backendai)")
    p.add_argument("--display-name", metavar="D", help="name shown in the launcher")
    p.add_argument("--image", metavar="I", help="session image, e.g. python:3.11-ubuntu22.04")
    p.add_argument("-r", "--resource", action="append", default=[], metavar="KEY=VALUE", help="e.g. -r cpu=2")
    p.add_argument("-m", "--mount", action="append", default=[], metavar="VFOLDER", help="vfolder to mount")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="session env var")
    p.set_defaults(func=_cmd_install)

    p = sub.add_parser("uninstall", help="remove a kernelspec of ours")
    p.add_argument("--name", default="backendai", help="kernelspec name (default: backendai)")
    p.set_defaults(func=_cmd_uninstall)

    p = sub.add_parser("list", help="list our kernelspecs")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("run", help="execute a notebook through the kernel and write the executed copy")
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument("-o", "--output", metavar="OUT", help="where to write it (default: NAME.out.ipynb)")
    p.add_argument("--kernel", metavar="NAME", help="kernelspec to use (default: backendai)")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S", help="per-cell timeout, 0: none")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("local", help="serve the local Backend.AI endpoint in the foreground")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: a free one)")
    p.add_argument("--data-dir", help="state folder")
    p.set_defaults(func=_cmd_local)

    p = sub.add_parser("config", help="show the resolved client configuration (secret masked)")
    p.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``backendai-jupyter``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"backendai-jupyter {args.command}: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
