"""``python -m backendai_jupyter.local``: serve the local endpoint in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import LocalConfig, default_data_dir
from .server import LocalEndpoint

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backendai_jupyter.local",
        description="Serve a Backend.AI-compatible endpoint that runs sessions as local ipykernel processes.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0 = a free port)")
    parser.add_argument(
        "--storage-port", type=int, default=0, help="storage proxy port (default: a free port)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="state folder (default: $BACKENDAI_JUPYTER_DATA_DIR or ~/.local/share/...)",
    )
    parser.add_argument("--access-key", default=None, help="use this access key (with --secret-key)")
    parser.add_argument("--secret-key", default=None, help="use this secret key (with --access-key)")
    parser.add_argument("--max-sessions", type=int, default=8, help="concurrent sessions per access key")
    parser.add_argument(
        "--idle-timeout", type=float, default=0.0, help="idle seconds before a session ends (0=off)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests and session events")
    return parser


async def _serve(config: LocalConfig) -> None:
    # handlers first: a SIGTERM that arrives while starting or printing must still stop cleanly
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    endpoint = LocalEndpoint(config)
    await endpoint.start()
    try:
        # the first line is machine-readable (tests and the CLI parse it)
        print(f"backendai-jupyter local endpoint: {endpoint.url}")
        print(f"  data dir: {config.data_dir}")
        if endpoint.storage_url:
            print(f"  storage proxy: {endpoint.storage_url}")
        print(f"  session mode login: {endpoint.user_email} / {endpoint.user_password}")
        print("Use it with:")
        print(f"  export BACKEND_ENDPOINT={shlex.quote(endpoint.url)}")
        print("  export BACKEND_ENDPOINT_TYPE=api")
        print(f"  export BACKEND_ACCESS_KEY={shlex.quote(endpoint.access_key)}")
        # printed on purpose, and only here: this is how the user obtains the generated secret key
        print(f"  export BACKEND_SECRET_KEY={shlex.quote(endpoint.secret_key)}")
        print("Stop with Ctrl-C.", flush=True)
        await stop.wait()
    finally:
        print("stopping: ending every session kernel...", flush=True)
        await endpoint.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and serve until stopped; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    try:
        config = LocalConfig(
            data_dir=(args.data_dir or default_data_dir()).expanduser(),
            host=args.host,
            port=args.port,
            storage_port=args.storage_port,
            max_concurrent_sessions=args.max_sessions,
            idle_timeout=args.idle_timeout,
            access_key=args.access_key,
            secret_key=args.secret_key,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
