"""Lifecycle benchmarks: how fast the daemon starts and how cheap the CLI is.

Run: ``python bench/lifecycle.py [--runs N]`` (``make bench`` does it). Prints:

- ``sqryd start --detach`` until it returns ready (target: median <= 250 ms),
  beside ``dmypy start`` when mypy is installed (a comparable Python daemon);
- whole-process ``sqryd status`` and ``sqry daemon status`` against a live
  daemon, beside a bare ``python -c pass`` of the same interpreter (target:
  <= 3x), plus the biggest imports of ``sqryd status`` (``-X importtime``);
- the IPC benchmark (``bench/ipc.py``) when it exists, run as is.

Numbers only: nothing here asserts. Every daemon started is stopped (or
killed) before the script exits, and each run uses its own runtime dir.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
SQRYD = str(BIN / "sqryd")
SQRY = str(BIN / "sqry")
START_TARGET_MS = 250.0
STATUS_TARGET_RATIO = 3.0


def private_env() -> tuple[Path, dict[str, str]]:
    """A fresh short runtime dir and an environment that points at it only."""
    base = Path(tempfile.mkdtemp(prefix="sqb", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQRY_DAEMON_", "SQRYD_"))}
    env.pop("NOTIFY_SOCKET", None)
    # An installed sqry has its bytecode compiled; without a cache every run would
    # recompile each module (~35 ms), so let the warm-up runs write __pycache__.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["XDG_RUNTIME_DIR"] = str(base)
    env["XDG_CONFIG_HOME"] = str(base / "config")
    return base, env


@dataclass
class Sample:
    """One whole-process run: wall-clock and CPU (user+sys) milliseconds."""

    wall_ms: float
    cpu_ms: float
    returncode: int
    stdout: str
    stderr: str


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> Sample:
    """Run one process to exit; CPU time comes from wait4's rusage.

    CPU time is reported beside wall time because this machine is shared: wall
    time swings with other people's load, CPU time much less.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()  # outputs are small: no pipe can fill while we read the other
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    cpu = (usage.ru_utime + usage.ru_stime) * 1000
    return Sample(wall, cpu, proc.returncode, out.decode(), err.decode())


def process_cpu_ms(pid: int) -> float:
    """CPU (user+sys) a live process has used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def stop_quietly(base: Path, env: dict[str, str]) -> None:
    """Stop the daemon of ``base``; if stop fails, SIGKILL the proven lock owner; remove the dir.

    Forced through ``stop --force``: it signals the pidfile's pid only while that
    pid provably holds the lock (``pidfile.pid_holds_lock``, via a pidfd), never
    a pid from the pidfile alone, which may have been reused.
    """
    done = subprocess.run([SQRYD, "stop"], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 73):
        forced = [SQRYD, "stop", "--force", "--timeout-secs", "1"]
        subprocess.run(forced, env=env, capture_output=True, text=True)
    shutil.rmtree(base, ignore_errors=True)


def bench_start(runs: int) -> tuple[list[float], list[float]]:
    """``sqryd start --detach`` until its (ready) exit, one daemon per run.

    Returns wall ms and CPU ms; the CPU figure adds the daemon's own CPU up to
    that moment (it is idle once ready) to the parent's.
    """
    walls, cpus = [], []
    for run in range(runs + 1):
        base, env = private_env()
        try:
            sample = timed([SQRYD, "start", "--detach", "--print-pid"], env)
            if sample.returncode != 0:
                raise SystemExit(f"sqryd start --detach failed: {sample.stderr.strip()}")
            daemon_cpu = process_cpu_ms(int(sample.stdout.strip()))
            if run:  # run 0 is the warm-up
                walls.append(sample.wall_ms)
                cpus.append(sample.cpu_ms + daemon_cpu)
        finally:
            stop_quietly(base, env)
    return walls, cpus


def bench_dmypy(runs: int) -> list[float] | None:
    """``dmypy start`` (wall ms) in an empty dir, when mypy is installed; None otherwise."""
    dmypy = shutil.which("dmypy", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if dmypy is None:
        return None
    samples = []
    for _ in range(runs):
        work = Path(tempfile.mkdtemp(prefix="sqbm", dir="/tmp"))
        try:
            samples.append(timed([dmypy, "start"], dict(os.environ), cwd=work).wall_ms)
        finally:
            subprocess.run([dmypy, "kill"], cwd=work, capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
    return samples


CLI_COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "sqryd status": [SQRYD, "status"],
    "sqry daemon status": [SQRY, "daemon", "status"],
}


def bench_cli(runs: int) -> tuple[dict[str, list[Sample]], list[tuple[int, str]]]:
    """Whole-process runs against one live daemon, interleaved so they share any noise."""
    base, env = private_env()
    results: dict[str, list[Sample]] = {name: [] for name in CLI_COMMANDS}
    try:
        started = timed([SQRYD, "start", "--detach"], env)
        if started.returncode != 0:
            raise SystemExit(f"sqryd start --detach failed: {started.stderr.strip()}")
        for argv in CLI_COMMANDS.values():
            timed(argv, env)  # warm-up: bytecode cache, page cache
        for _ in range(runs):
            for name, argv in CLI_COMMANDS.items():
                sample = timed(argv, env)
                if sample.returncode != 0:
                    raise SystemExit(f"{name} failed ({sample.returncode}): {sample.stderr}")
                results[name].append(sample)
        return results, importtime_top(env)
    finally:
        stop_quietly(base, env)


def importtime_top(env: dict[str, str], count: int = 8) -> list[tuple[int, str]]:
    """The ``count`` top-level imports of ``sqryd status`` with the largest cumulative us."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", SQRYD, "status"],
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, raw_name = line.split("|")
        top_level = raw_name.startswith(" ") and not raw_name.startswith("  ")
        if top_level and cumulative.strip().isdigit():
            rows.append((int(cumulative), raw_name.strip()))
    return sorted(rows, reverse=True)[:count]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def report_start(walls: list[float], cpus: list[float], dmypy: list[float] | None) -> None:
    print(
        f"sqryd start --detach until ready: wall median {median(walls):6.1f} ms "
        f"(min {min(walls):.1f}, max {max(walls):.1f}, n={len(walls)}; target <= "
        f"{START_TARGET_MS:.0f} ms: {verdict(median(walls) <= START_TARGET_MS)}); "
        f"CPU parent+daemon median {median(cpus):.1f} ms"
    )
    if dmypy is None:
        print("dmypy start: mypy not installed, no comparison")
    else:
        print(f"dmypy start: wall median {median(dmypy):6.1f} ms (n={len(dmypy)})")


def report_cli(results: dict[str, list[Sample]], imports: list[tuple[int, str]]) -> None:
    base_wall = median([s.wall_ms for s in results["python -c pass"]])
    base_cpu = median([s.cpu_ms for s in results["python -c pass"]])
    for name, samples in results.items():
        wall = median([s.wall_ms for s in samples])
        cpu = median([s.cpu_ms for s in samples])
        line = (
            f"{name:<20} wall median {wall:6.1f} ms = {wall / base_wall:4.2f}x   "
            f"CPU median {cpu:6.1f} ms = {cpu / base_cpu:4.2f}x python -c pass"
        )
        if name != "python -c pass":
            line += f"   (target <= {STATUS_TARGET_RATIO:g}x: "
            line += f"{verdict(wall / base_wall <= STATUS_TARGET_RATIO)})"
        print(line)
    print("largest top-level imports of `sqryd status` (cumulative, -X importtime, inflated):")
    for micros, name in imports:
        print(f"  {micros / 1000:6.1f} ms  {name}")


def run_ipc_bench() -> None:
    """The IPC engineer's benchmark, run as is (its numbers are not duplicated here)."""
    ipc = Path(__file__).with_name("ipc.py")
    if not ipc.exists():
        print("(bench/ipc.py not present: no IPC numbers)")
        return
    print(f"--- {ipc.name} ---", flush=True)
    subprocess.run([sys.executable, str(ipc)], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per measurement")
    parser.add_argument("--no-ipc", action="store_true", help="skip bench/ipc.py")
    args = parser.parse_args(argv)
    for exe in (SQRYD, SQRY):
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"{exe} not found: install the project into this interpreter's venv")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"interpreter: {sys.executable} ({sys.version.split()[0]}), {os.cpu_count()} CPUs, "
        f"load average {load}"
    )
    walls, cpus = bench_start(args.runs)
    report_start(walls, cpus, bench_dmypy(max(3, args.runs // 3)))
    report_cli(*bench_cli(args.runs * 2))
    if not args.no_ipc:
        run_ipc_bench()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
