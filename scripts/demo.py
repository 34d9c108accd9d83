"""The main job behind ``make demo``: the daemon's life cycle, then the code graph.

Runs with the virtualenv's ``bin`` first on ``PATH`` (the Makefile arranges it), so
``sqryd`` and ``sqry`` are the installed console scripts a user would type. The
daemon part uses a private temporary runtime dir, so it never disturbs a
``sqryd`` the user may already be running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*cmd: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    """Echo and run one command, the way a user would type it."""
    print(f"\n$ {' '.join(cmd)}", flush=True)
    rc = subprocess.run(cmd, env=env).returncode
    if rc not in (0, 1) and check:  # 1 = "no results" for sqry queries
        sys.exit(f"demo: '{' '.join(cmd)}' exited {rc}")
    return rc


def daemon_part() -> None:
    """Start sqryd detached, look at it, talk to it through the client, stop it."""
    runtime = tempfile.mkdtemp(prefix="sqdemo", dir="/tmp")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
    env.pop("SQRY_DAEMON_SOCKET", None)
    try:
        print(f"== sqryd in a private runtime dir: {runtime}")
        run("sqryd", "start", "--detach", "--print-pid", env=env)
        run("sqryd", "status", env=env)
        code = (
            "import time\n"
            "from sqry.client import DaemonClient\n"
            "with DaemonClient.connect() as c:\n"
            "    t = time.perf_counter(); s = c.request('daemon/status')\n"
            "    us = (time.perf_counter() - t) * 1e6\n"
            "print(f\"client round trip: daemon/status from pid {s['pid']} in {us:.0f} us\")\n"
        )
        run(sys.executable, "-c", code, env=env)
        run("sqry", "daemon", "status", "--json", env=env)
        run("sqryd", "stop", env=env)
    finally:
        subprocess.run(["sqryd", "stop"], env=env, capture_output=True)
        shutil.rmtree(runtime, ignore_errors=True)


def graph_part() -> None:
    """Index this project and the standard library, then ask them questions."""
    print("\n== the code graph of this project")
    # --force: an index an older sqry left in this checkout would be refused
    # (another schema version) and stop the demo; the stdlib copy below shows
    # incremental re-indexing instead
    run("sqry", "index", "--force", str(ROOT))
    run("sqry", "search", "--exact", "acquire_pidfile_lock", str(ROOT))
    run("sqry", "graph", "callers", "acquire_pidfile_lock", str(ROOT))
    run("sqry", "query", "kind:class inherits:DaemonError", str(ROOT))

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    work = Path(tempfile.mkdtemp(prefix="sqdemo-stdlib"))
    try:
        copy = work / "stdlib"
        print(f"\n== the Python standard library ({stdlib}), copied to {copy}")
        shutil.copytree(stdlib, copy, ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
        t = time.perf_counter()
        run("sqry", "index", str(copy))
        print(f"(full index: {time.perf_counter() - t:.1f}s)")
        t = time.perf_counter()
        run("sqry", "index", str(copy))
        print(f"(re-index, nothing changed: {time.perf_counter() - t:.2f}s)")
        os.chdir(copy)
        run("sqry", "search", "--exact", "urlopen")
        run("sqry", "search", "^HTTPConn", "-k", "class")
        run("sqry", "graph", "callers", "urllib.request.urlopen")
        run("sqry", "query", "kind:class inherits:HTTPException | count")
        run("sqry", "query", "kind:function async:true | top 5 path")
        run("sqry", "explain", "json.dumps")
    finally:
        os.chdir(ROOT)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    daemon_part()
    graph_part()
    print("\ndemo finished")


if __name__ == "__main__":
    main()
