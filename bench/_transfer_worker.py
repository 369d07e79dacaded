"""One vfolder upload or download with our SDK; prints its seconds and this process's peak RSS as JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/_transfer_worker.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backendai_jupyter.sdk import AsyncClient  # imported before the clock starts
from bench._support import vm_hwm

__all__ = ["main"]


async def _transfer(op: str, folder: str, path: Path) -> None:
    async with AsyncClient() as client:  # configured by BACKEND_* in the environment
        if op == "upload":
            await client.vfolders.upload(folder, [path])
        else:
            await client.vfolders.download(folder, [path.name], dest=path.parent)


def main(argv: Sequence[str] | None = None) -> int:
    """``upload FOLDER FILE`` or ``download FOLDER FILE`` (FILE: where the download lands)."""
    parser = argparse.ArgumentParser(prog="python -m bench._transfer_worker")
    parser.add_argument("op", choices=["upload", "download"])
    parser.add_argument("folder")
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    asyncio.run(_transfer(args.op, args.folder, args.file))
    seconds = time.perf_counter() - started
    # ru_maxrss also counts what the parent had resident when it forked us (an upper bound);
    # VmHWM is ours alone
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss": peak_kib * 1024, "hwm": vm_hwm()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
