"""Runtime dir resolution, the per-socket file family, and runtime-dir safety (lifecycle.md §1)."""

from __future__ import annotations

import copy
import os
import pickle
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqry.daemon.lifecycle import paths as lp
from sqry.daemon.lifecycle.errors import (
    ConfigError,
    DaemonIoError,
    RuntimeDirUnsafe,
    UnsupportedPlatform,
)
from sqry.daemon.lifecycle.paths import RuntimePaths

IS_ROOT = os.geteuid() == 0
OTHER_UID = 65534  # nobody


@pytest.fixture
def tmp() -> Iterator[Path]:
    """A short private temp dir (sun_path limits make pytest's tmp_path too long)."""
    directory = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- resolve_runtime_dir ---------------------------------------------------


def test_runtime_dir_prefers_xdg() -> None:
    env = {"XDG_RUNTIME_DIR": "/run/user/1234", "TMPDIR": "/var/tmp"}
    assert lp.resolve_runtime_dir(env) == "/run/user/1234/sqry"


def test_runtime_dir_falls_back_to_tmpdir_with_real_uid() -> None:
    assert lp.resolve_runtime_dir({"TMPDIR": "/var/tmp"}) == f"/var/tmp/sqry-{os.getuid()}"


def test_runtime_dir_last_resort_is_tmp_and_ignores_user() -> None:
    env = {"USER": "mallory", "XDG_RUNTIME_DIR": "", "TMPDIR": ""}
    assert lp.resolve_runtime_dir(env) == f"/tmp/sqry-{os.getuid()}"


@pytest.mark.parametrize("relative", ["relx", "./run", "../up"])
def test_relative_xdg_runtime_dir_is_ignored(relative: str) -> None:
    """XDG Base Directory spec: a relative XDG_* path is invalid and must be ignored."""
    env = {"XDG_RUNTIME_DIR": relative, "TMPDIR": "/var/tmp"}
    assert lp.resolve_runtime_dir(env) == f"/var/tmp/sqry-{os.getuid()}"


def test_relative_tmpdir_is_ignored_too() -> None:
    env = {"XDG_RUNTIME_DIR": "relx", "TMPDIR": "tmp"}
    assert lp.resolve_runtime_dir(env) == f"/tmp/sqry-{os.getuid()}"
    assert lp.socket_file(None, env) == f"/tmp/sqry-{os.getuid()}/sqryd.sock"


# --- RuntimePaths ------------------------------------------------------------


def test_default_family_lives_in_runtime_dir() -> None:
    p = RuntimePaths.resolve(None, {"XDG_RUNTIME_DIR": "/run/user/7"})
    d = Path("/run/user/7/sqry")
    assert p == RuntimePaths(
        runtime_dir=d,
        socket=d / "sqryd.sock",
        lock=d / "sqryd.lock",
        pid=d / "sqryd.pid",
        bootstrap_lock=d / "sqryd.bootstrap.lock",
        ready=d / "sqryd.ready",
        default_log=d / "sqryd.log",
    )


def test_custom_socket_moves_the_family_beside_it() -> None:
    p = RuntimePaths.resolve("/x/foo.sock", {"XDG_RUNTIME_DIR": "/run/user/7"})
    assert p.runtime_dir == Path("/x")
    assert p.socket == Path("/x/foo.sock")
    assert (p.lock, p.pid) == (Path("/x/foo.lock"), Path("/x/foo.pid"))
    assert p.bootstrap_lock == Path("/x/foo.bootstrap.lock")
    assert (p.ready, p.default_log) == (Path("/x/foo.ready"), Path("/x/foo.log"))


def test_relative_custom_socket_is_made_absolute_against_cwd(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp)
    p = RuntimePaths.resolve("sub/../d.sock")
    assert p.socket == tmp / "d.sock"
    assert p.lock == tmp / "d.lock"


def test_socket_without_sock_suffix_never_collides_with_siblings() -> None:
    p = RuntimePaths.resolve("/x/foo.lock")
    assert p.lock == Path("/x/foo.lock.lock")
    assert len({p.socket, p.lock, p.pid, p.bootstrap_lock, p.ready, p.default_log}) == 6


def test_two_private_sockets_in_one_dir_do_not_collide() -> None:
    a = RuntimePaths.resolve("/x/a.sock")
    b = RuntimePaths.resolve("/x/b.sock")
    files_a = {a.socket, a.lock, a.pid, a.bootstrap_lock, a.ready, a.default_log}
    files_b = {b.socket, b.lock, b.pid, b.bootstrap_lock, b.ready, b.default_log}
    assert not files_a & files_b


def test_empty_socket_override_means_default() -> None:
    env = {"XDG_RUNTIME_DIR": "/run/user/7"}
    assert RuntimePaths.resolve("", env) == RuntimePaths.resolve(None, env)


@pytest.mark.parametrize(
    "override", [None, "", "/x/foo.sock", "/x/foo.lock", "/foo.sock", "sub/../d.sock", "~/s.sock"]
)
def test_socket_file_is_the_socket_of_the_family(
    override: str | None, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pathlib-free shortcut of the status path never disagrees with RuntimePaths."""
    monkeypatch.chdir(tmp)
    env = {"XDG_RUNTIME_DIR": "/run/user/7"}
    assert lp.socket_file(override, env) == str(RuntimePaths.resolve(override, env).socket)


def test_socket_file_defaults_to_the_runtime_dir_socket() -> None:
    assert lp.socket_file(None, {"XDG_RUNTIME_DIR": "/run/user/7"}) == "/run/user/7/sqry/sqryd.sock"


def test_runtime_paths_is_an_immutable_value() -> None:
    a = RuntimePaths.resolve("/x/a.sock")
    assert a == RuntimePaths.resolve("/x/a.sock") and hash(a) == hash(
        RuntimePaths.resolve("/x/a.sock")
    )
    assert a != RuntimePaths.resolve("/x/b.sock")
    assert all(isinstance(getattr(a, name), Path) for name in RuntimePaths.PATH_FIELDS)
    assert a.custom is True and RuntimePaths.resolve(None).custom is False
    with pytest.raises(AttributeError, match="immutable"):
        a.socket = Path("/y/evil.sock")  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del a.lock
    assert a.socket == Path("/x/a.sock")
    assert copy.deepcopy(a) == a and pickle.loads(pickle.dumps(a)) == a
    assert repr(a).startswith(
        "RuntimePaths(runtime_dir=PosixPath('/x'), socket=PosixPath('/x/a.sock'), "
        "lock=PosixPath('/x/a.lock')"
    )


# --- check_socket_path -------------------------------------------------------


def test_socket_path_at_the_limit_is_accepted() -> None:
    limit = lp.socket_path_limit()
    lp.check_socket_path(Path("/" + "a" * (limit - 1)))


def test_socket_path_over_the_limit_is_a_config_error() -> None:
    limit = lp.socket_path_limit()
    path = Path("/" + "a" * limit)
    with pytest.raises(ConfigError) as info:
        lp.check_socket_path(path)
    msg = str(info.value)
    assert info.value.exit_code == 78
    assert f"{limit + 1} bytes" in msg and f"{limit}-byte limit" in msg
    assert "SQRY_DAEMON_SOCKET" in msg


def test_socket_path_length_counts_bytes_not_characters() -> None:
    limit = lp.socket_path_limit()
    path = Path("/" + "é" * (limit // 2 + 1))  # 2 bytes each in UTF-8
    with pytest.raises(ConfigError):
        lp.check_socket_path(path)


@pytest.mark.parametrize("path", ["/", "/tmp", "/x/.", "/x/.."])
def test_socket_path_naming_a_directory_is_a_config_error(path: str) -> None:
    with pytest.raises(ConfigError) as info:
        lp.check_socket_names_a_file(path)
    assert info.value.exit_code == 78
    assert f"socket path {path} is a directory" in str(info.value)
    assert "SQRY_DAEMON_SOCKET" in str(info.value)


def test_socket_path_naming_a_new_file_is_accepted(tmp: Path) -> None:
    lp.check_socket_names_a_file(tmp / "d.sock")


# --- ensure_runtime_dir ------------------------------------------------------


@pytest.mark.parametrize("custom", [False, True])
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277, 0o777])
def test_creates_missing_dirs_0700_whatever_the_umask(tmp: Path, umask: int, custom: bool) -> None:
    """Private, and usable: a umask clearing the owner's bits (0277, 0777) must
    not leave directories their owner cannot enter (a custom socket's directory
    is never chmod'ed afterwards)."""
    target = tmp / "a" / "b" / "sqry"
    old = os.umask(umask)
    try:
        lp.ensure_runtime_dir(target, custom=custom)
    finally:
        os.umask(old)
    assert [mode_of(d) for d in (tmp / "a", tmp / "a" / "b", target)] == [0o700] * 3


def test_existing_own_dir_is_tightened_to_0700(tmp: Path) -> None:
    target = tmp / "sqry"
    target.mkdir()
    os.chmod(target, 0o775)
    lp.ensure_runtime_dir(target)
    assert mode_of(target) == 0o700


def test_runtime_dir_given_as_a_string(tmp: Path) -> None:
    lp.ensure_runtime_dir(str(tmp / "s" / "sqry"))
    assert mode_of(tmp / "s" / "sqry") == 0o700 and mode_of(tmp / "s") == 0o700


def test_a_runtime_dir_under_a_file_says_what_to_set(tmp: Path) -> None:
    """``XDG_RUNTIME_DIR=/some/file``: the message names the fix, not just ENOTDIR."""
    (tmp / "file").write_text("")
    with pytest.raises(DaemonIoError) as info:
        lp.ensure_runtime_dir(tmp / "file" / "sqry")
    assert str(info.value) == (
        f"cannot prepare runtime directory {tmp}/file/sqry: Not a directory; check the "
        "directories on that path, or set XDG_RUNTIME_DIR (or SQRY_DAEMON_SOCKET) to a "
        "directory you own"
    )


def test_existing_private_dir_is_left_alone(tmp: Path) -> None:
    lp.ensure_runtime_dir(tmp)
    lp.ensure_runtime_dir(tmp)  # idempotent
    assert mode_of(tmp) == 0o700


def test_sticky_shared_dir_is_refused_and_never_chmodded(tmp: Path) -> None:
    shared = tmp / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(RuntimeDirUnsafe) as info:
        lp.ensure_runtime_dir(shared)
    assert info.value.exit_code == 77
    assert str(shared) in str(info.value) and "private directory" in str(info.value)
    assert mode_of(shared) == 0o1777


def test_real_tmp_is_refused_untouched() -> None:
    before = mode_of(Path("/tmp"))
    if not before & stat.S_ISVTX:
        pytest.skip("/tmp is not a sticky shared directory on this machine")
    with pytest.raises(RuntimeDirUnsafe):
        lp.ensure_runtime_dir(Path("/tmp"))
    assert mode_of(Path("/tmp")) == before


@pytest.mark.skipif(not IS_ROOT, reason="needs root to chown a directory to another uid")
def test_dir_owned_by_another_uid_is_refused(tmp: Path) -> None:
    foreign = tmp / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, OTHER_UID, OTHER_UID)
    with pytest.raises(RuntimeDirUnsafe) as info:
        lp.ensure_runtime_dir(foreign)
    msg = str(info.value)
    assert str(foreign) in msg and f"uid {OTHER_UID}" in msg
    assert "XDG_RUNTIME_DIR" in msg


@pytest.mark.skipif(not IS_ROOT, reason="needs root to chown a symlink to another uid")
def test_symlink_planted_by_another_uid_is_refused(tmp: Path) -> None:
    real = tmp / "real"
    real.mkdir(mode=0o700)
    link = tmp / "link"
    link.symlink_to(real)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(RuntimeDirUnsafe, match="symlink"):
        lp.ensure_runtime_dir(link)


def test_mount_point_is_refused_instead_of_chmodded(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate "/run" or "/": injecting ismount keeps the test from touching system dirs.
    target = tmp / "mnt"
    target.mkdir()
    os.chmod(target, 0o755)
    monkeypatch.setattr(lp.os.path, "ismount", lambda p: Path(p) == target)
    with pytest.raises(RuntimeDirUnsafe, match="mount point"):
        lp.ensure_runtime_dir(target)
    assert mode_of(target) == 0o755


def test_non_directory_in_the_way_is_an_io_error(tmp: Path) -> None:
    blocker = tmp / "file"
    blocker.write_text("x")
    with pytest.raises(DaemonIoError) as info:
        lp.ensure_runtime_dir(blocker)
    assert info.value.exit_code == 73
    assert "not a directory" in str(info.value)


def test_uncreatable_dir_is_an_io_error_naming_it(tmp: Path) -> None:
    blocker = tmp / "file"
    blocker.write_text("x")
    with pytest.raises(DaemonIoError) as info:
        lp.ensure_runtime_dir(blocker / "sqry")
    assert str(blocker / "sqry") in str(info.value)


def test_windows_is_refused_with_the_platform_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lp.os, "name", "nt")
    monkeypatch.setattr(lp.sys, "platform", "win32")
    with pytest.raises(UnsupportedPlatform, match="win32"):
        lp.require_posix()


# --- custom socket directories (never chmod'ed) ------------------------------


def test_custom_socket_dir_that_is_ours_and_not_writable_by_others_is_used_as_is(
    tmp: Path,
) -> None:
    home = tmp / "home"
    home.mkdir()
    os.chmod(home, 0o755)  # like $HOME: others may read it, which is fine
    lp.ensure_runtime_dir(home, custom=True)
    assert mode_of(home) == 0o755, "a directory we did not create is never chmod'ed"
    lp.prepare_start(RuntimePaths.resolve(str(home / "sqryd.sock")))
    assert mode_of(home) == 0o755


def test_missing_custom_socket_dir_is_created_private(tmp: Path) -> None:
    lp.prepare_start(RuntimePaths.resolve(str(tmp / "new" / "deeper" / "d.sock")))
    assert mode_of(tmp / "new" / "deeper") == 0o700 and mode_of(tmp / "new") == 0o700


@pytest.mark.parametrize("mode", [0o775, 0o757, 0o777])
def test_group_or_world_writable_custom_socket_dir_is_refused_untouched(
    tmp: Path, mode: int
) -> None:
    shared = tmp / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    with pytest.raises(RuntimeDirUnsafe) as info:
        lp.prepare_start(RuntimePaths.resolve(str(shared / "sqryd.sock")))
    msg = str(info.value)
    assert info.value.exit_code == 77
    assert str(shared) in msg and f"{mode:04o}" in msg and f"chmod go-w {shared}" in msg
    assert mode_of(shared) == mode


def test_sticky_shared_custom_socket_dir_gets_no_chmod_advice(tmp: Path) -> None:
    sticky = tmp / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    with pytest.raises(RuntimeDirUnsafe, match="shared sticky directory") as info:
        lp.prepare_start(RuntimePaths.resolve(str(sticky / "sqryd.sock")))
    assert "chmod" not in str(info.value).split("refusing to use or chmod it")[1]
    assert mode_of(sticky) == 0o1777


@pytest.mark.skipif(not IS_ROOT, reason="needs root to chown a directory to another uid")
def test_custom_socket_dir_owned_by_another_uid_is_refused(tmp: Path) -> None:
    foreign = tmp / "foreign"
    foreign.mkdir(mode=0o755)
    os.chown(foreign, OTHER_UID, OTHER_UID)
    with pytest.raises(RuntimeDirUnsafe, match=f"owned by uid {OTHER_UID}"):
        lp.prepare_start(RuntimePaths.resolve(str(foreign / "sqryd.sock")))
    assert mode_of(foreign) == 0o755


def test_the_default_runtime_dir_is_still_tightened(tmp: Path) -> None:
    runtime = tmp / "sqry"
    runtime.mkdir()
    os.chmod(runtime, 0o755)
    lp.prepare_start(RuntimePaths.resolve(None, {"XDG_RUNTIME_DIR": str(tmp)}))
    assert mode_of(runtime) == 0o700


def test_prepare_start_checks_the_socket_length_before_creating_the_dir(tmp: Path) -> None:
    missing = tmp / ("d" * 100)
    with pytest.raises(ConfigError, match="bytes, over the"):
        lp.prepare_start(RuntimePaths.resolve(str(missing / "sqryd.sock")))
    assert not missing.exists()


# --- is_on_nfs ---------------------------------------------------------------


def test_local_dirs_are_not_nfs(tmp: Path) -> None:
    assert lp.is_on_nfs(tmp) is False


def test_nfs_check_never_raises_on_missing_path(tmp: Path) -> None:
    assert lp.is_on_nfs(tmp / "missing" / "dir") is False


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="Linux procfs only")
def test_statfs_reads_the_real_fs_magic() -> None:
    # PROC_SUPER_MAGIC proves the ctypes statfs call reads f_type correctly.
    assert lp._linux_fs_magic(b"/proc") == 0x9FA0
