"""Shared fixtures for tests that run real daemons (see ``tests/helpers.py``).

- ``sqryd_env`` — a :class:`helpers.SqrydEnv`: a short private runtime dir
  (``/tmp/sqXXXXXXXX``, exported as XDG_RUNTIME_DIR), a scrubbed environment
  (no SQRY_DAEMON_*/SQRYD_*/NOTIFY_SOCKET from the developer's shell, an empty
  XDG_CONFIG_HOME), ``run()``/``spawn()`` for ``sqryd`` (``helpers.SQRYD``) or
  any command, and a finalizer that SIGKILLs every process started through it
  or still carrying its runtime dir, then removes the dir.
- ``live_daemon`` — a :class:`helpers.LiveDaemon` started with
  ``sqryd start --detach`` in a fresh ``sqryd_env``; its ``.env.env`` is the
  environment in which clients reach it (``sqry``, ``DaemonClient.connect()``).
  It is stopped (then killed if need be) at teardown.

Use ``@pytest.mark.timeout(N)`` on every test that starts processes and
``helpers.wait_until`` for every wait.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# CI (``.ci/run``) sets HYPOTHESIS_PROFILE=ci: the same examples on every run of a
# commit, so a red CI is reproducible with `HYPOTHESIS_PROFILE=ci make test`, and
# no wall-clock deadline, since the shared 2-core machine makes timings noisy.
# Without it, developers' runs explore new random examples (and keep failures in
# the local .hypothesis database).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

from helpers import LiveDaemon, SqrydEnv  # noqa: E402


@pytest.fixture
def sqryd_env() -> Iterator[SqrydEnv]:
    env = SqrydEnv.create()
    try:
        yield env
    finally:
        env.cleanup()


@pytest.fixture
def live_daemon(sqryd_env: SqrydEnv) -> Iterator[LiveDaemon]:
    daemon = LiveDaemon.start(sqryd_env)
    try:
        yield daemon
    finally:
        with contextlib.suppress(Exception):
            daemon.stop()
