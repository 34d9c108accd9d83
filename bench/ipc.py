"""IPC round-trip latency and throughput of sqryd (ipc.md; targets in the task brief).

Starts a server in a separate process — a real ``sqryd foreground`` when it comes up,
otherwise an in-process IpcServer in a helper process (``--server`` picks) — then
measures, over real Unix sockets:

1. one persistent client: ``daemon/status`` round trips, p50/p90/p99/max
   (targets: p50 <= 150 us, p99 <= 1 ms);
2. 16 concurrent clients (separate processes) x 2,000 requests each: errors and
   aggregate throughput.

Usage: ``python bench/ipc.py [--server auto|sqryd|inproc] [--requests N]
[--clients C] [--per-client M] [--json]``. ``bench/lifecycle.py`` may import
``serve_for_bench`` and ``run_all``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqry.client import ClientError, DaemonClient

START_TIMEOUT_SECS = 20.0
TARGET_P50_US = 150.0
TARGET_P99_US = 1000.0


# --- servers -------------------------------------------------------------------------


def _wait_for_socket(path: str, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            DaemonClient.connect(path, connect_timeout=1, handshake_timeout=2).close()
            return True
        except ClientError:
            time.sleep(0.02)
    return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def serve_for_bench(kind: str = "auto") -> Iterator[tuple[str, str, int]]:
    """Yield ``(socket_path, server_description, server_pid)`` for a server in another process."""
    workdir = Path(tempfile.mkdtemp(prefix="sqb", dir="/tmp"))
    socket_path = str(workdir / "sqryd.sock")
    (workdir / "config").mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SQRY_DAEMON_", "SQRYD_", "NOTIFY_"))
    }
    env.update(
        XDG_RUNTIME_DIR=str(workdir),
        XDG_CONFIG_HOME=str(workdir / "config"),
        SQRY_DAEMON_SOCKET=socket_path,
        SQRY_DAEMON_LOG_FILE=str(workdir / "sqryd.log"),
        SQRY_DAEMON_LOG_LEVEL="warning",
    )
    proc: subprocess.Popen | None = None
    description = ""
    try:
        if kind in ("auto", "sqryd"):
            proc = subprocess.Popen(
                [sys.executable, "-m", "sqry.daemon.lifecycle.cli", "foreground"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if _wait_for_socket(socket_path, proc, START_TIMEOUT_SECS):
                description = f"sqryd foreground (pid {proc.pid})"
            else:
                _stop(proc)
                err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
                if kind == "sqryd":
                    raise SystemExit(f"bench/ipc.py: sqryd did not come up: {err}")
                print(
                    f"# sqryd unavailable ({err.splitlines()[-1] if err else 'no output'}); "
                    "using an in-process server in a helper process",
                    file=sys.stderr,
                )
                proc = None
        if proc is None:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve", socket_path],
                env=env,
                stdin=subprocess.DEVNULL,
            )
            if not _wait_for_socket(socket_path, proc, START_TIMEOUT_SECS):
                raise SystemExit("bench/ipc.py: the in-process helper server did not come up")
            description = f"IpcServer in helper process (pid {proc.pid})"
        yield socket_path, description, proc.pid
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _serve_forever(socket_path: str) -> None:
    """Helper-process mode: serve the management methods until SIGTERM/SIGINT."""
    import threading

    from sqry.daemon.ipc.threaded import ThreadedServer

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with ThreadedServer(socket_path):
        stop.wait()


# --- measurements --------------------------------------------------------------------


def _percentile(sorted_ns: list[int], pct: float) -> float:
    index = min(len(sorted_ns) - 1, max(0, round(pct / 100 * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1000.0


def process_cpu_secs(pid: int) -> float | None:
    """user+system CPU seconds of ``pid`` (Linux /proc), None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def round_trips(
    socket_path: str, requests: int, warmup: int = 1000, server_pid: int | None = None
) -> dict[str, Any]:
    """One persistent connection, ``requests`` sequential daemon/status calls.

    Besides wall-clock latency it reports CPU time per request on each side, which
    stays meaningful on a busy machine where wall-clock tails measure the scheduler.
    """
    clock = time.perf_counter_ns
    with DaemonClient.connect(socket_path) as client:
        call = client.request
        for _ in range(warmup):
            call("daemon/status")
        samples = [0] * requests
        server_cpu0 = process_cpu_secs(server_pid) if server_pid else None
        client_cpu0 = time.process_time()
        start = clock()
        for i in range(requests):
            t0 = clock()
            call("daemon/status")
            samples[i] = clock() - t0
        wall = (clock() - start) / 1e9
        client_cpu = time.process_time() - client_cpu0
        server_cpu1 = process_cpu_secs(server_pid) if server_pid else None
    samples.sort()
    server_cpu_us = (
        (server_cpu1 - server_cpu0) / requests * 1e6
        if server_cpu0 is not None and server_cpu1 is not None
        else None
    )
    return {
        "client_cpu_us_per_request": client_cpu / requests * 1e6,
        "server_cpu_us_per_request": server_cpu_us,
        "requests": requests,
        "p50_us": _percentile(samples, 50),
        "p90_us": _percentile(samples, 90),
        "p99_us": _percentile(samples, 99),
        "max_us": samples[-1] / 1000.0,
        "mean_us": sum(samples) / len(samples) / 1000.0,
        "requests_per_sec": requests / wall,
    }


def _client_worker(socket_path: str, count: int, barrier: Any, results: Any) -> None:
    """One client process: connect, wait for everyone, fire ``count`` requests."""
    errors = 0
    first_error = ""
    try:
        with DaemonClient.connect(socket_path, connect_timeout=30, handshake_timeout=30) as client:
            barrier.wait(timeout=120)
            for _ in range(count):
                try:
                    client.request("daemon/status")
                except ClientError as exc:
                    errors += 1
                    first_error = first_error or str(exc)
                    if client.closed:
                        errors += count - 1
                        break
    except Exception as exc:  # report, never hang the parent
        errors, first_error = count, f"{type(exc).__name__}: {exc}"
        barrier.abort()
    results.put({"errors": errors, "first_error": first_error})


def concurrent_clients(socket_path: str, clients: int, per_client: int) -> dict[str, Any]:
    """``clients`` processes, each with its own connection, ``per_client`` requests each.

    Processes, not threads: client threads would serialise on this process's GIL and
    measure Python rather than the daemon.
    """
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_client_worker, args=(socket_path, per_client, barrier, results))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    try:
        barrier.wait(timeout=120)  # everyone connected: start the clock
        start = time.perf_counter()
        collected = [results.get(timeout=600) for _ in procs]
        wall = time.perf_counter() - start
    except Exception as exc:
        collected = [results.get(timeout=30) for _ in procs]
        wall = float("nan")
        collected.append({"errors": 0, "first_error": f"barrier: {type(exc).__name__}"})
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    total = clients * per_client
    return {
        "clients": clients,
        "per_client": per_client,
        "requests": total,
        "errors": sum(r["errors"] for r in collected),
        "first_error": next((r["first_error"] for r in collected if r["first_error"]), ""),
        "wall_secs": wall,
        "requests_per_sec": total / wall,
    }


def socket_floor(samples: int = 20_000) -> dict[str, float]:
    """p50/p99 of a bare 40-byte ping-pong between two processes over a socketpair.

    This is what the host charges for one cross-process wake-up and back, with no
    Python work at all; it varies a lot between runs of a shared VM, so the report
    prints it beside the daemon's numbers to show how much of them is ours.
    """
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the echo side
        a.close()
        while data := b.recv(64):
            b.sendall(data)
        os._exit(0)
    b.close()
    payload, lat = b"x" * 40, []
    for _ in range(samples):
        start = time.perf_counter()
        a.sendall(payload)
        a.recv(64)
        lat.append(time.perf_counter() - start)
    a.close()
    os.waitpid(pid, 0)
    lat.sort()
    return {"p50_us": lat[len(lat) // 2] * 1e6, "p99_us": lat[int(len(lat) * 0.99)] * 1e6}


def run_all(
    socket_path: str,
    requests: int = 20_000,
    clients: int = 16,
    per_client: int = 2_000,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Both measurements against an already running server."""
    return {
        "socket_floor": socket_floor(),
        "single_connection": round_trips(socket_path, requests, server_pid=server_pid),
        "concurrent": concurrent_clients(socket_path, clients, per_client),
    }


def _report(results: dict[str, Any], description: str) -> str:
    single = results["single_connection"]
    conc = results["concurrent"]
    p50_ok = "ok" if single["p50_us"] <= TARGET_P50_US else "MISSED"
    p99_ok = "ok" if single["p99_us"] <= TARGET_P99_US else "MISSED"
    lines = [
        f"# server: {description}",
        f"# host: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"load average {os.getloadavg()[0]:.2f}",
        f"host floor, bare socketpair ping-pong between two processes: "
        f"p50 {results['socket_floor']['p50_us']:.1f} us, "
        f"p99 {results['socket_floor']['p99_us']:.1f} us",
        f"single connection, daemon/status x {single['requests']}:",
        f"  p50 {single['p50_us']:.1f} us (target <= {TARGET_P50_US:.0f}: {p50_ok})",
        f"  p90 {single['p90_us']:.1f} us",
        f"  p99 {single['p99_us']:.1f} us (target <= {TARGET_P99_US:.0f}: {p99_ok})",
        f"  max {single['max_us']:.1f} us, mean {single['mean_us']:.1f} us, "
        f"{single['requests_per_sec']:.0f} req/s",
        f"  CPU per request: client {single['client_cpu_us_per_request']:.1f} us, server "
        + (
            f"{single['server_cpu_us_per_request']:.1f} us"
            if single["server_cpu_us_per_request"] is not None
            else "n/a"
        ),
        f"{conc['clients']} concurrent clients x {conc['per_client']} requests:",
        f"  {conc['requests']} requests, {conc['errors']} errors, {conc['wall_secs']:.2f} s, "
        f"{conc['requests_per_sec']:.0f} req/s",
    ]
    if conc["first_error"]:
        lines.append(f"  first error: {conc['first_error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("auto", "sqryd", "inproc"), default="auto")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=2_000)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--serve", metavar="SOCKET", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve_forever(args.serve)
        return 0
    with serve_for_bench(args.server) as (socket_path, description, server_pid):
        results = run_all(socket_path, args.requests, args.clients, args.per_client, server_pid)
    if args.json:
        print(json.dumps({"server": description, **results}, indent=2))
    else:
        print(_report(results, description))
    return 1 if results["concurrent"]["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
