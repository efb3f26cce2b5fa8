"""The page-worker pool, kept light so that it can start before the rest of the pipeline is imported.

Worker processes import the clean-up and OCR code as they start; started first, they do that while the
main process imports the pipeline and opens the archive, the index and the keys (seconds, on a small
counter batch, that would otherwise come one after the other).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor

TASKS_PER_WORKER = 50  # workers are replaced after 50 pages, which bounds the memory any leak could take


def init_worker(parent_pid: int | None = None) -> None:
    """Process-pool initializer: Tesseract single-threaded, one page per process; ends with its parent."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if parent_pid is not None:
        _end_with_parent(parent_pid)
    import digitize.pages  # noqa: F401  (imported now, while the main process is still starting)


def _end_with_parent(parent_pid: int) -> None:
    """Ask Linux to stop this worker when the process that started it dies (e.g. a run killed with SIGKILL),
    instead of leaving an orphan waiting on a queue nobody reads."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` page workers, all started now rather than at the first page."""
    pool = ProcessPoolExecutor(max(1, workers), initializer=init_worker, initargs=(os.getpid(),),
                               max_tasks_per_child=TASKS_PER_WORKER)
    for _ in range(max(1, workers)):
        pool.submit(os.getpid)  # each submission with no idle worker starts one
    return pool
