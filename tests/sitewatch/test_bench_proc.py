"""The process-tree measures count a child's work, which the worker's capture processes and the API
benchmark's server processes need."""

from __future__ import annotations

import subprocess
import sys
import time

from sitewatch.bench.proc import tree, tree_cpu_s, tree_rss_mb

SPIN = "import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end: pass\n"


def test_a_busy_child_counts_in_the_tree() -> None:
    before = tree_cpu_s()
    child = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        time.sleep(1.0)  # this process sleeps: what the tree used comes from the child
        assert child.pid in tree()
        used = (tree_cpu_s() or 0.0) - (before or 0.0)
        memory = tree_rss_mb()
    finally:
        child.wait(timeout=30)
    assert used >= 0.4
    assert memory > 0
