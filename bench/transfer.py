"""vfolder upload and download of a big file: our SDK vs curl (same storage-proxy URL) vs the official CLI."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/transfer.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from yarl import URL

from bench._support import (
    OFFICIAL_VENV,
    ROOT,
    Endpoint,
    Finished,
    RunScope,
    Table,
    clean_environ,
    fmt_bytes,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    median,
    official_env,
)

__all__ = ["main", "measure"]

FOLDER = "bench-transfer"
#: Targets: at least this fraction of curl's rate, at least this multiple of the official client's.
CURL_TARGET = 0.85
OFFICIAL_TARGET = 1.5
#: Target: peak RSS of our process (the claim is made for a 2 GiB file).
RSS_TARGET = 100 * 1024 * 1024
_BLOCK = 1 << 20


def _make_file(path: Path, size: int) -> None:
    """Write ``size`` bytes of incompressible data (one random MiB, repeated with a counter)."""
    block = os.urandom(_BLOCK)
    with path.open("wb") as out:
        done = 0
        while done < size:
            piece = (done.to_bytes(8, "little") + block[8:])[: size - done]
            out.write(piece)
            done += len(piece)


def _ticket(endpoint: Endpoint, op: str, remote: str, size: int | None = None) -> str:
    """A storage-proxy URL with its token (request-upload / request-download through our SDK)."""
    from backendai_jupyter.sdk import Client

    body: dict[str, object] = {"path": remote}
    if size is not None:
        body["size"] = size
    with Client(endpoint.config()) as client:
        reply = client.request("POST", f"/folders/{FOLDER}/request-{op}", json=body).json()
    return str(URL(reply["url"]).update_query(token=reply["token"]))


def _curl(scope: RunScope, args: Sequence[str], url: str, timeout: float) -> Finished:
    os.sync()  # each transfer starts with no dirty pages of an earlier one to write back
    # the URL (with its token) goes through stdin, so that it shows in no process list
    return scope.run(
        ["curl", "--silent", "--show-error", "--fail", "--config", "-", *args],
        stdin_text=f'url = "{url}"\n',
        timeout=timeout,
    )


def _ours(
    scope: RunScope, endpoint: Endpoint, op: str, path: Path, timeout: float
) -> tuple[Finished, float, tuple[int, int]]:
    """Our SDK in a subprocess: (the process, seconds inside it, its peak RSS from getrusage and VmHWM)."""
    os.sync()  # each transfer starts with no dirty pages of an earlier one to write back
    import json

    done = scope.run(
        [sys.executable, "-m", "bench._transfer_worker", op, FOLDER, str(path)],
        env={**clean_environ(), **endpoint.env()},
        cwd=ROOT,
        timeout=timeout,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return done, float(report["seconds"]), (int(report["peak_rss"]), int(report["hwm"]))


def _official(scope: RunScope, endpoint: Endpoint, op: str, name: str, cwd: Path, timeout: float) -> Finished:
    os.sync()  # each transfer starts with no dirty pages of an earlier one to write back
    return scope.run(
        [str(OFFICIAL_VENV / "bin" / "backend.ai"), "vfolder", op, FOLDER, name],
        env=official_env(endpoint, scope.tmp / "official-home"),
        cwd=cwd,
        timeout=timeout,
    )


def _check_size(path: Path, size: int, who: str) -> None:
    got = path.stat().st_size if path.exists() else -1
    if got != size:
        raise RuntimeError(f"{who} left {got} bytes in {path}, expected {size}")


@dataclass
class _Round:
    """One round's numbers: seconds per (op, who), our peak RSS (getrusage, VmHWM), peers' VmHWM."""

    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    rss: dict[str, tuple[int, int]] = field(default_factory=dict)
    hwm: dict[tuple[str, str], int] = field(default_factory=dict)


def _one_round(
    scope: RunScope, endpoint: Endpoint, src: Path, size: int, timeout: float, turn: int
) -> _Round:
    """Upload ``src`` three ways, download it three ways, check the sizes, then remove every copy.

    ``turn`` rotates who goes first, so that no one is always the one right after the others.
    """
    from backendai_jupyter.sdk import Client

    r = _Round()
    done: dict[tuple[str, str], Finished] = {}
    dl = {who: scope.tmp / f"dl-{who}" for who in ("ours", "curl", "official")}
    for folder in dl.values():
        folder.mkdir(exist_ok=True)

    def upload(who: str) -> None:
        if who == "ours":
            done["upload", who], r.seconds["upload", "inner"], r.rss["upload"] = _ours(
                scope, endpoint, "upload", src / "ours.bin", timeout
            )
        elif who == "curl":
            done["upload", who] = _curl(
                scope,
                [
                    *("--request", "PATCH", "--upload-file", str(src / "ours.bin")),
                    *("--header", "Tus-Resumable: 1.0.0", "--header", "Upload-Offset: 0"),
                    *("--header", "Content-Type: application/offset+octet-stream"),
                    *("--header", "Expect:", "--output", "/dev/null"),
                ],
                _ticket(endpoint, "upload", "curl.bin", size),
                timeout,
            )
        else:
            done["upload", who] = _official(scope, endpoint, "upload", "official.bin", src, timeout)

    def download(who: str) -> None:
        # everyone fetches ours.bin, so the first downloader needs our upload to be done
        if who == "ours":
            done["download", who], r.seconds["download", "inner"], r.rss["download"] = _ours(
                scope, endpoint, "download", dl["ours"] / "ours.bin", timeout
            )
        elif who == "curl":
            done["download", who] = _curl(
                scope,
                ["--output", str(dl["curl"] / "ours.bin")],
                _ticket(endpoint, "download", "ours.bin"),
                timeout,
            )
        else:
            done["download", who] = _official(
                scope, endpoint, "download", "ours.bin", dl["official"], timeout
            )

    order = ["ours", "curl", "official"]
    order = order[turn % 3 :] + order[: turn % 3]
    for who in order:
        upload(who)
    for who in order:
        download(who)
    for who, folder in dl.items():
        _check_size(folder / "ours.bin", size, f"the {who} download")
        (folder / "ours.bin").unlink()
    with Client(endpoint.config()) as client:
        client.vfolders.delete_files(FOLDER, ["ours.bin", "curl.bin", "official.bin"])
    for (op, who), finished in done.items():
        r.seconds[op, who] = finished.seconds
        r.hwm[op, who] = finished.hwm
    return r


def measure(scope: RunScope, *, size: int, repeat: int) -> Table:
    """Upload and download one ``size``-byte file three ways, ``repeat`` rounds; returns the table."""
    from backendai_jupyter.sdk import Client

    endpoint = scope.start_endpoint()
    with Client(endpoint.config()) as client:
        client.vfolders.create(FOLDER)
    timeout = 120 + size / (5 * 1024 * 1024)  # generous: 5 MiB/s at the very least
    src = scope.tmp / "src"
    src.mkdir()
    _make_file(src / "ours.bin", size)
    os.link(src / "ours.bin", src / "official.bin")
    rounds = [_one_round(scope, endpoint, src, size, timeout, turn) for turn in range(repeat)]

    def sec(op: str, who: str) -> float:
        return median([r.seconds[op, who] for r in rounds])

    table = Table(
        "transfer", f"vfolder transfer of one {fmt_bytes(size)} file over loopback (median of {repeat})"
    )
    for op in ("upload", "download"):
        inner, curl = sec(op, "inner"), sec(op, "curl")
        table.add(
            f"{op}: our SDK vs curl",
            f"{fmt_rate(size / inner)} ({fmt_seconds(inner)})",
            f"{fmt_rate(size / curl)} ({fmt_seconds(curl)})",
            fmt_ratio(curl / inner),
            f">= {CURL_TARGET}x",
            curl / inner >= CURL_TARGET,
        )
        ours, official = sec(op, "ours"), sec(op, "official")
        table.add(
            f"{op}: our SDK vs official CLI",
            f"{fmt_rate(size / ours)} ({fmt_seconds(ours)})",
            f"{fmt_rate(size / official)} ({fmt_seconds(official)})",
            fmt_ratio(official / ours),
            f">= {OFFICIAL_TARGET}x",
            official / ours >= OFFICIAL_TARGET,
        )
    for op in ("upload", "download"):
        rss = max(r.rss[op][0] for r in rounds)
        hwm = max(r.rss[op][1] for r in rounds)
        curl_hwm = max(r.hwm[op, "curl"] for r in rounds)
        official_hwm = max(r.hwm[op, "official"] for r in rounds)
        table.add(
            f"{op}: peak RSS, getrusage (own VmHWM); peers: curl / official",
            f"{fmt_bytes(rss)} ({fmt_bytes(hwm)})",
            f"{fmt_bytes(curl_hwm)} / {fmt_bytes(official_hwm)}",
            "-",
            f"< {fmt_bytes(RSS_TARGET)}",
            rss < RSS_TARGET,
        )
    table.note(
        "vs curl: the SDK call timed inside our process (request ticket included) vs the curl process on a "
        "ticket fetched beforehand"
    )
    table.note(
        "vs official: whole processes (start-up included): python -m bench._transfer_worker vs backend.ai "
        "vfolder upload/download"
    )
    table.note(
        "os.sync() runs before each transfer and who goes first rotates per round, so that no one pays for "
        "another's writeback"
    )
    table.note(
        "peak RSS: getrusage(RUSAGE_SELF) in our worker, an upper bound on Linux (it keeps the forked "
        "parent's high-water mark); VmHWM is the program's own. Peers: VmHWM sampled every 20 ms. "
        "The claim is for --size 2048"
    )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.transfer", description=__doc__)
    parser.add_argument(
        "--size", type=float, default=512, help="file size in MiB (default 512; 2048 for the memory claim)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds, medians taken (default 3)")
    parser.add_argument("--quick", action="store_true", help="an 8 MiB file, one round (a smoke run)")
    parser.add_argument("--time-limit", type=float, default=1800, help="give up after this many seconds")
    args = parser.parse_args(argv)
    size_mib, repeat = (8.0, 1) if args.quick else (args.size, args.repeat)
    if size_mib <= 0 or repeat < 1:
        parser.error(f"--size {size_mib} must be a positive number of MiB and --repeat {repeat} 1 or more")
    with RunScope("transfer", time_limit=args.time_limit) as scope:
        table = measure(scope, size=int(size_mib * (1 << 20)), repeat=repeat)
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
