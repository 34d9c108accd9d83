"""Is a flock held? Answered from ``/proc/locks``, without taking the lock.

``status`` must never take the lock (lifecycle §6), and even a probe that holds
it for microseconds is seen by a racing ``start`` as "already running" and by
another probe as a live daemon. The kernel lists every granted flock in
``/proc/locks`` by device and inode, so on Linux the question can be answered
by reading. Kept free of heavy imports: ``sqryd status`` pays for every one.

It can miss a lock that is held, never invent one: the kernel leaves a lock out
of ``/proc/locks`` when the pid that took it is not visible in the reader's pid
namespace (a ``start --detach`` launcher that handed the lock over and exited,
inside a container), and on an overlay or btrfs mount ``st_dev`` may not be the
device the kernel lists. ``status`` then says "not running" rather than
"starting", as it did before it looked at all; ``stop`` keeps its flock probe.
"""

from __future__ import annotations

import os
import stat


def flock_held(path: str | os.PathLike[str]) -> bool | None:
    """True when some process holds a flock on ``path``; False when none does
    (or the file does not exist); None when this cannot be known without
    locking (no ``/proc/locks``, or ``path`` is not a regular file)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in lines:
        # "1: FLOCK  ADVISORY  WRITE 5071 fe:00:2148755 0 EOF"; a waiter's line
        # has "->" after the number and holds nothing
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == key:
            return True
    return False
