"""What one hostile frame costs a real sqryd: reply, wall time, memory high-water, fairness.

For each adversarial frame body (most of them a full 64 MiB, the protocol's maximum)
a *fresh* ``sqryd foreground`` is started, so the process high-water mark
(``VmHWM`` in ``/proc/<pid>/status``) belongs to that frame alone. The frame is
sent on one connection while a second connection asks ``daemon/status``; the bench
prints what came back, how long the hostile reply took, the bystander's slowest
status round trip while it waited (status is asked in a loop), and the daemon's peak RSS over its idle baseline (also as a multiple
of the frame size). The daemon's log line count shows log floods.

Usage: ``python bench/ipc_memory.py [--only NAME ...] [--mib N] [--json]``.
Numbers are for the README and review, not pass/fail: the properties themselves
(batch limit, value cap, bystander served) are pinned by tests/daemon/ipc.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipc import serve_for_bench  # noqa: E402

HELLO = b'{"client_version":"bench","protocol_version":1}'
MIB = 1024 * 1024
REPLY_TIMEOUT_SECS = 600.0


def _frame(body: bytes) -> bytes:
    return struct.pack("<I", len(body)) + body


def _fill(unit: bytes, size: int, head: bytes = b"", tail: bytes = b"") -> bytes:
    """``head + unit,unit,... + tail`` of about ``size`` bytes in total."""
    count = max(1, (size - len(head) - len(tail)) // (len(unit) + 1))
    return head + b",".join([unit] * count) + tail


# A daemon/status request whose params hold the hostile value (refused with -32602
# only after the whole frame has been parsed, which is what is being measured).
_HEAD = b'{"jsonrpc":"2.0","id":1,"method":"daemon/status","params":{"value":'
_TAIL = b"}}"


def payloads(size: int) -> dict[str, Callable[[], list[bytes]]]:
    """Name -> builder of the frame bodies sent back to back on one connection."""
    head, tail = _HEAD, _TAIL
    return {
        "batch_600k_zeros_1.2MB": lambda: [b"[" + b",".join([b"0"] * 600_000) + b"]"],
        "batch_of_zeros": lambda: [_fill(b"0", size, b"[", b"]")],
        "params_empty_arrays": lambda: [_fill(b"[]", size, head + b"[", b"]" + tail)],
        "params_empty_objects": lambda: [_fill(b"{}", size, head + b"[", b"]" + tail)],
        "params_floats": lambda: [_fill(b"1.5", size, head + b"[", b"]" + tail)],
        "params_short_strings": lambda: [_fill(b'"ab"', size, head + b"[", b"]" + tail)],
        "deep_nesting": lambda: [b"[" * (size // 2) + b"]" * (size // 2)],
        "ascii_string": lambda: [head + b'"' + b"a" * (size - 80) + b'"' + tail],
        "astral_string": lambda: [head + '"😀'.encode() + b"a" * (size - 80) + b'"' + tail],
        "huge_int_in_params": lambda: [head + b"7" * (size - 80) + tail],
        "huge_int_id": lambda: [
            b'{"jsonrpc":"2.0","method":"daemon/status","id":' + b"9" * (size - 80) + b"}"
        ],
        "pipelined_4x_ascii": lambda: [head + b'"' + b"a" * (size - 80) + b'"' + tail] * 4,
    }


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(4 * MIB, n - len(buf)))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv_frame(sock: socket.socket) -> bytes | None:
    header = _recv_exact(sock, 4)
    if header is None:
        return None
    return _recv_exact(sock, struct.unpack("<I", header)[0])


def _connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(REPLY_TIMEOUT_SECS)
    sock.connect(path)
    sock.sendall(_frame(HELLO))
    if _recv_frame(sock) is None:
        raise SystemExit("bench/ipc_memory.py: the daemon refused the hello")
    return sock


def _vm(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field in bytes."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _summary(body: bytes | None) -> str:
    """One short description of a reply frame."""
    if body is None:
        return "connection closed, no reply"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{len(body)} bytes, not JSON"
    replies = doc if type(doc) is list else [doc]
    first = replies[0] if replies else {}
    error = first.get("error") if type(first) is dict else None
    what = (
        f"{error['code']} {error.get('data', {}).get('reason', error['message'])[:70]}"
        if error
        else "result"
    )
    prefix = f"array of {len(replies)}, first: " if type(doc) is list else ""
    return f"{prefix}{what}"


def measure(name: str, bodies: list[bytes]) -> dict[str, Any]:
    """Send ``bodies`` to a fresh daemon and record what it cost."""
    frame_bytes = sum(len(b) for b in bodies)
    with serve_for_bench("sqryd") as (path, _description, pid):
        hostile, bystander = _connect(path), _connect(path)
        baseline = _vm(pid, "VmRSS")
        status_secs: list[float] = []
        replies: list[bytes | None] = []
        done = threading.Event()

        def ask_status_until_done() -> None:
            """Bystander: daemon/status round trips until the hostile reply is in."""
            while not done.is_set():
                start = time.monotonic()
                bystander.sendall(_frame(b'{"jsonrpc":"2.0","id":7,"method":"daemon/status"}'))
                if _recv_frame(bystander) is None:
                    return
                status_secs.append(time.monotonic() - start)

        start = time.monotonic()
        sender = threading.Thread(target=lambda: hostile.sendall(b"".join(map(_frame, bodies))))
        sender.start()
        asker = threading.Thread(target=ask_status_until_done)
        asker.start()
        for _ in bodies:
            body = _recv_frame(hostile)
            replies.append(body)
            if body is None:
                break
        reply_secs = time.monotonic() - start
        done.set()
        sender.join(REPLY_TIMEOUT_SECS)
        asker.join(REPLY_TIMEOUT_SECS)
        peak = _vm(pid, "VmHWM")
        hostile.close()
        bystander.close()
        log = Path(path).parent / "sqryd.log"
        log_lines = len(log.read_bytes().splitlines()) if log.exists() else 0
    return {
        "name": name,
        "frame_mib": round(frame_bytes / MIB, 1),
        "reply": _summary(replies[0] if replies else None),
        "replies": len([r for r in replies if r is not None]),
        "reply_secs": round(reply_secs, 2),
        "bystander_worst_status_secs": round(max(status_secs), 3) if status_secs else None,
        "bystander_round_trips": len(status_secs),
        "peak_rss_over_baseline_mib": round((peak - baseline) / MIB, 1),
        "peak_over_frame": round((peak - baseline) / frame_bytes, 1),
        "log_lines": log_lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="payload names to run (default: all)")
    parser.add_argument("--mib", type=int, default=64, help="frame size in MiB (default 64)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    size = min(args.mib * MIB, 64 * MIB)
    table = payloads(size)
    names = args.only or list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"unknown payload(s) {', '.join(unknown)}; choose from {', '.join(table)}")
    print(f"# load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs", file=sys.stderr)
    results = []
    for name in names:
        result = measure(name, table[name]())
        results.append(result)
        if not args.json:
            print(
                f"{name:24} {result['frame_mib']:6.1f} MiB -> {result['reply']}\n"
                f"{'':24} reply {result['reply_secs']}s, bystander worst status "
                f"{result['bystander_worst_status_secs']}s (of {result['bystander_round_trips']}), peak RSS +{result['peak_rss_over_baseline_mib']} "
                f"MiB ({result['peak_over_frame']}x frame), log lines {result['log_lines']}",
                flush=True,
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
