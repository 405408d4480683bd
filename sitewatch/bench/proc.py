"""What a process and its children use (Linux ``/proc``): CPU seconds and resident memory, for benchmarks
whose work runs in child processes too (API server processes, capture processes)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def tree(pid: int | None = None) -> list[int]:
    """``pid`` (this process by default) and its direct children; only ``pid`` without ``/proc``."""
    pid = pid or os.getpid()
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if not children.exists():
        return [pid]
    return [pid, *(int(c) for c in children.read_text().split())]


def tree_cpu_s(pid: int | None = None) -> float | None:
    """CPU seconds (user and system) used so far by a process and its children; ``None`` without ``/proc``.

    Example:
        >>> (tree_cpu_s() or 0.0) >= 0.0
        True
    """
    pid = pid or os.getpid()
    if not Path(f"/proc/{pid}/stat").exists():
        return None
    total = 0
    for member in tree(pid):
        with contextlib.suppress(OSError):  # a child that has just exited
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process and its children, in MB (0 without ``/proc``)."""
    total = 0.0
    for member in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def thread_cpu_s(tid: int | None) -> float:
    """CPU seconds (user and system) a thread of this process used so far (its ``native_id``); 0 when it
    is gone or there is no ``/proc``.

    Example:
        >>> import threading
        >>> thread_cpu_s(threading.get_native_id()) >= 0.0
        True
    """
    if tid is None:
        return 0.0
    try:
        fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
