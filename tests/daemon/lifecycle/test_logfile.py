"""JSON-lines log file: format, levels, size rotation, concurrency, degraded rotation,
and fd 1/2 redirection (lifecycle.md §8)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqry.daemon.lifecycle import logfile as lf
from sqry.daemon.lifecycle.config import DaemonConfig
from sqry.daemon.lifecycle.logfile import RotatingJsonFileHandler, level_number, setup_logging

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def tmp() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def sqry_logger() -> Iterator[logging.Logger]:
    """The ``sqry`` logger, restored (handlers and level) after the test."""
    logger = logging.getLogger("sqry")
    level = logger.level
    try:
        yield logger
    finally:
        lf.teardown_logging()
        logger.setLevel(level)


@pytest.fixture
def handlers() -> Iterator[list[RotatingJsonFileHandler]]:
    made: list[RotatingJsonFileHandler] = []
    yield made
    for handler in made:
        handler.close()


def make_logger(
    path: Path, handlers: list[RotatingJsonFileHandler], max_bytes: int, keep: int
) -> tuple[logging.Logger, RotatingJsonFileHandler]:
    handler = RotatingJsonFileHandler(path, max_bytes, keep)
    handlers.append(handler)
    logger = logging.Logger(f"test.{path.name}.{len(handlers)}")  # private, not in the tree
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger, handler


def log_files(path: Path) -> list[Path]:
    """The live file and its rotations, newest first."""
    rotated = sorted(
        (p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()),
        key=lambda p: int(p.suffix[1:]),
    )
    return [path, *rotated] if path.exists() else rotated


def records(*files: Path) -> list[dict]:
    out = []
    for file in files:
        for line in file.read_bytes().splitlines():
            out.append(json.loads(line))
    return out


# --- format and levels ----------------------------------------------------------------


def test_json_line_fields(tmp: Path, handlers: list) -> None:
    logger, _ = make_logger(tmp / "d.log", handlers, 10**6, 3)
    logger.info("hello %s", "wörld", extra={"root": "/src", "count": 3, "ts": "clash"})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed\nacross lines")
    first, second = records(tmp / "d.log")
    assert TS.match(first["ts"]), first["ts"]
    assert first["level"] == "info" and first["msg"] == "hello wörld"
    assert first["logger"] == logger.name and first["pid"] == os.getpid()
    assert (first["root"], first["count"], first["extra_ts"]) == ("/src", 3, "clash")
    assert second["level"] == "error" and second["msg"] == "it failed\nacross lines"
    assert "ValueError: boom" in second["exc"] and "Traceback" in second["exc"]
    assert len((tmp / "d.log").read_bytes().splitlines()) == 2, "one physical line per record"


def test_log_file_is_0600_whatever_the_umask(tmp: Path, handlers: list) -> None:
    old = os.umask(0)
    try:
        make_logger(tmp / "d.log", handlers, 1000, 2)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp / "d.log").st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "number"),
    [("trace", 5), ("DEBUG", 10), ("info", 20), ("warn", 30), ("Warning", 30), ("error", 40)],
)
def test_level_mapping(name: str, number: int) -> None:
    assert level_number(name) == number


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="loud"):
        level_number("loud")


def test_setup_logging_applies_the_level_threshold(tmp: Path, sqry_logger: logging.Logger) -> None:
    cfg = DaemonConfig(log_file=str(tmp / "d.log"), log_level="warn")
    setup_logging(cfg, detached=False, env={})
    child = logging.getLogger("sqry.daemon.test")
    child.info("hidden")
    child.warning("shown")
    child.log(lf.TRACE, "hidden too")
    cfg.log_level = "trace"
    setup_logging(cfg, detached=False, env={})  # re-setup replaces, never duplicates
    child.log(lf.TRACE, "traced")
    assert [(r["level"], r["msg"]) for r in records(tmp / "d.log")] == [
        ("warn", "shown"),
        ("trace", "traced"),
    ]


def test_stderr_only_under_systemd_creates_no_file(
    tmp: Path, sqry_logger: logging.Logger, capfd: pytest.CaptureFixture[str]
) -> None:
    cfg = DaemonConfig(log_file=str(tmp / "d.log"))
    setup_logging(cfg, detached=False, env={"NOTIFY_SOCKET": "/run/x"})
    logging.getLogger("sqry.x").info("to the journal", extra={"k": 1})
    assert not (tmp / "d.log").exists()
    err = capfd.readouterr().err
    assert "info sqry.x: to the journal k=1" in err


def test_setup_failure_falls_back_to_stderr_with_a_warning(
    tmp: Path, sqry_logger: logging.Logger, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp / "file").write_text("x")
    cfg = DaemonConfig(log_file=str(tmp / "file" / "d.log"))
    setup_logging(cfg, detached=False, env={})  # must not raise
    logging.getLogger("sqry.x").warning("still logging")
    err = capfd.readouterr().err
    assert err.splitlines()[0] == (
        f"sqryd: warning: cannot open log file {tmp / 'file' / 'd.log'}: Not a directory; "
        "logging to stderr instead (set log_file or SQRY_DAEMON_LOG_FILE)"
    ), "the true reason, not makedirs' 'File exists'"
    assert "still logging" in err


@pytest.mark.timeout(20)
@pytest.mark.parametrize("reader", [False, True], ids=["no-reader", "with-reader"])
def test_fifo_as_log_file_falls_back_to_stderr_without_blocking(
    tmp: Path, sqry_logger: logging.Logger, capfd: pytest.CaptureFixture[str], reader: bool
) -> None:
    """An O_WRONLY open of a FIFO blocks until a reader comes: it must not even try."""
    fifo = tmp / "d.log"
    os.mkfifo(fifo)
    held = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK) if reader else None
    try:
        setup_logging(DaemonConfig(log_file=str(fifo)), detached=False, env={})
        logging.getLogger("sqry.x").warning("still logging")
    finally:
        if held is not None:
            os.close(held)
    err = capfd.readouterr().err
    assert f"warning: cannot open log file {fifo}: it is " in err
    assert "not a regular file" in err and "logging to stderr instead" in err
    assert "still logging" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is left as it was"


def test_symlink_as_log_file_is_refused_not_followed(
    tmp: Path, sqry_logger: logging.Logger, capfd: pytest.CaptureFixture[str]
) -> None:
    target = tmp / "elsewhere.txt"
    target.write_text("precious\n")
    link = tmp / "d.log"
    link.symlink_to(target)
    setup_logging(DaemonConfig(log_file=str(link)), detached=False, env={})
    logging.getLogger("sqry.x").warning("still logging")
    err = capfd.readouterr().err
    assert f"cannot open log file {link}: it is a symlink; point log_file at the real file" in err
    assert target.read_text() == "precious\n"


def test_device_as_log_file_falls_back_to_stderr(
    sqry_logger: logging.Logger, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging(DaemonConfig(log_file="/dev/null"), detached=False, env={})
    logging.getLogger("sqry.x").warning("still logging")
    err = capfd.readouterr().err
    assert "cannot open log file /dev/null: it is not a regular file (a device)" in err
    assert "still logging" in err


# --- rotation -------------------------------------------------------------------------


def test_rotation_threshold_and_whole_lines(tmp: Path, handlers: list) -> None:
    path = tmp / "d.log"
    logger, _ = make_logger(path, handlers, 2000, 50)
    for i in range(200):
        logger.info("line %04d %s", i, "x" * (i % 37))
    files = log_files(path)
    assert len(files) > 5, "the threshold must have triggered rotations"
    for file in files:
        assert file.stat().st_size <= 2000, file
        assert file.read_bytes().endswith(b"\n")
    msgs = [r["msg"][:9] for r in records(*reversed(files))]
    assert msgs == [f"line {i:04d}" for i in range(200)], "nothing lost, order kept"


def test_keep_n_drops_the_oldest(tmp: Path, handlers: list) -> None:
    path = tmp / "d.log"
    logger, _ = make_logger(path, handlers, 500, 3)
    for i in range(300):
        logger.info("n=%d", i)
    files = log_files(path)
    assert [f.name for f in files] == ["d.log", "d.log.1", "d.log.2", "d.log.3"]
    numbers = [int(r["msg"][2:]) for r in records(*reversed(files))]
    assert numbers == list(range(numbers[0], 300)), "the newest lines, contiguous"
    assert numbers[0] > 0, "the oldest were dropped"
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_oversized_line_gets_a_file_of_its_own(tmp: Path, handlers: list) -> None:
    path = tmp / "d.log"
    logger, _ = make_logger(path, handlers, 300, 5)
    logger.info("small")
    logger.info("big %s", "y" * 1000)
    logger.info("after")
    assert [r["msg"] for r in records(tmp / "d.log.2")] == ["small"]
    assert records(tmp / "d.log.1")[0]["msg"].startswith("big ")
    assert [r["msg"] for r in records(path)] == ["after"]


def test_failed_rename_degrades_then_recovers(
    tmp: Path, handlers: list, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp / "d.log"
    blocker = tmp / "d.log.1"
    blocker.mkdir()  # works as root too: a directory occupies the rotation slot
    logger, _ = make_logger(path, handlers, 400, 3)
    for i in range(40):
        logger.info("k=%d", i)
    assert [int(r["msg"][2:]) for r in records(path) if r["msg"].startswith("k=")] == list(
        range(40)
    )
    reports = [r for r in records(path) if "rotation" in r["msg"]]
    assert len(reports) == 1 and str(blocker) in reports[0]["msg"]
    assert capfd.readouterr().err.count("log rotation of") == 1, "reported once on stderr"
    assert blocker.is_dir() and not any(blocker.iterdir()), "the obstruction is untouched"
    blocker.rmdir()
    logger.info("after repair")
    assert (tmp / "d.log.1").is_file()
    assert [r["msg"] for r in records(path)] == ["after repair"]
    rotated = [r["msg"] for r in records(tmp / "d.log.1") if r["msg"].startswith("k=")]
    assert rotated == [f"k={i}" for i in range(40)]


def test_failed_replace_midway_loses_nothing(
    tmp: Path, handlers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp / "d.log"
    logger, _ = make_logger(path, handlers, 300, 50)
    for i in range(20):
        logger.info("a=%d", i)
    real_replace = os.replace
    calls = []

    def replace_failing_on_the_live_file(src: object, dst: object) -> None:
        calls.append(src)
        if Path(src) == path:  # the shift of old files worked, the last step fails
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(lf.os, "replace", replace_failing_on_the_live_file)
    for i in range(20, 60):
        logger.info("a=%d", i)
    assert path.stat().st_size > 300, "kept writing to the live file past the threshold"
    monkeypatch.setattr(lf.os, "replace", real_replace)
    for i in range(60, 80):
        logger.info("a=%d", i)
    assert calls, "rotation was attempted while failing"
    seen = [int(r["msg"][2:]) for r in records(*reversed(log_files(path))) if r["msg"][:2] == "a="]
    assert seen == list(range(80)), "every line kept, in order"
    reports = [r for r in records(*log_files(path)) if "rotation" in r["msg"]]
    assert len(reports) == 1 and "No space left" in reports[0]["msg"]


def test_reopen_failure_keeps_writing_to_the_rotated_file(
    tmp: Path, handlers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp / "d.log"
    logger, handler = make_logger(path, handlers, 200, 3)
    real_open = lf._open_log_fd
    monkeypatch.setattr(lf, "_open_log_fd", lambda p: (_ for _ in ()).throw(OSError(24, "EMFILE")))
    for i in range(10):
        logger.info("r=%d", i)
    monkeypatch.setattr(lf, "_open_log_fd", real_open)
    logger.info("r=%d", 10)
    seen = [int(r["msg"][2:]) for r in records(*reversed(log_files(path))) if r["msg"][:2] == "r="]
    assert seen == list(range(11))
    assert [r["msg"] for r in records(path)] == ["r=10"]


# --- concurrency -----------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_concurrent_threads_lose_nothing_and_never_interleave(tmp: Path, handlers: list) -> None:
    path = tmp / "d.log"
    logger, _ = make_logger(path, handlers, 20_000, 1000)
    threads, per_thread = 8, 400

    def work(t: int) -> None:
        for i in range(per_thread):
            logger.info("t=%d i=%d %s", t, i, "z" * ((t * 31 + i) % 97))

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    files = log_files(path)
    assert len(files) > 3
    seen = [tuple(r["msg"].split()[:2]) for r in records(*files)]  # json.loads proves whole lines
    assert sorted(seen) == sorted(
        (f"t={t}", f"i={i}") for t in range(threads) for i in range(per_thread)
    )


WRITER = """
import logging, sys
from sqry.daemon.lifecycle.logfile import RotatingJsonFileHandler
h = RotatingJsonFileHandler(sys.argv[1], 1 << 40, 1)
log = logging.Logger("w")
log.addHandler(h)
for i in range(int(sys.argv[3])):
    log.warning("p=%s i=%d %s", sys.argv[2], i, "q" * (i % 211))
"""


@pytest.mark.timeout(120)
def test_concurrent_processes_appending_lose_no_bytes(tmp: Path) -> None:
    path = tmp / "d.log"
    count, writers = 1500, 4
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(p), str(count)])
        for p in range(writers)
    ]
    try:
        codes = [proc.wait(timeout=100) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert codes == [0] * writers
    lines = path.read_bytes().splitlines()
    seen = sorted(tuple(json.loads(line)["msg"].split()[:2]) for line in lines)
    assert seen == sorted((f"p={p}", f"i={i}") for p in range(writers) for i in range(count))


# --- fd 1/2 redirection ----------------------------------------------------------------

DETACHED = """
import faulthandler, logging, os, sys
from sqry.daemon.lifecycle.config import DaemonConfig
from sqry.daemon.lifecycle.logfile import redirect_std_streams, setup_logging
path = sys.argv[1]
redirect_std_streams(path)  # what the detached child does first
os.write(2, b"early fd2 text\\n")
cfg = DaemonConfig(log_file=path, log_max_size_mb=1, log_keep_rotations=2)
setup_logging(cfg, detached=True, env={})
log = logging.getLogger("sqry.test")
log.info("before rotation")
print("stdout before", flush=True)
log.info("filler %s", "f" * (1024 * 1024))  # forces a rotation
print("stdout after rotation", flush=True)
faulthandler.dump_traceback(file=sys.stderr)
sys.stderr.write("stderr after rotation\\n")
sys.stderr.flush()
"""


@pytest.mark.timeout(60)
def test_detached_std_streams_follow_the_current_log_file(tmp: Path) -> None:
    path = tmp / "d.log"
    proc = subprocess.run(
        [sys.executable, "-c", DETACHED, str(path)],
        capture_output=True,
        timeout=50,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"" and proc.stderr == b"", "nothing escapes to the original stdio"
    assert not (tmp / "d.log.2").exists(), "exactly one rotation"
    old = (tmp / "d.log.1").read_bytes()
    current = path.read_bytes()
    assert b"early fd2 text" in old and b"stdout before" in old and b"before rotation" in old
    assert b"stdout after rotation" in current and b"stderr after rotation" in current
    assert b'File "<string>"' in current, "faulthandler output lands in the current file"


def test_rotation_fills_the_first_gap_without_pushing_older_files(
    tmp: Path, handlers: list
) -> None:
    path = tmp / "d.log"
    for index, text in [(1, "one"), (2, "two"), (4, "four")]:
        (tmp / f"d.log.{index}").write_text(text)
    logger, _ = make_logger(path, handlers, 10, 5)
    logger.info("first")
    logger.info("second")  # crosses 10 bytes: rotates
    assert (tmp / "d.log.4").read_text() == "four", "beyond the gap nothing moves"
    assert (tmp / "d.log.3").read_text() == "two"
    assert (tmp / "d.log.2").read_text() == "one"
    assert [r["msg"] for r in records(tmp / "d.log.1")] == ["first"]
    assert not (tmp / "d.log.5").exists()
