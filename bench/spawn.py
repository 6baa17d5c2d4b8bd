"""Run one command; write its wall time and resource usage, as JSON, to a file.

    python -I -S bench/spawn.py OUT.json PROGRAM [ARG...]

The benchmark measures every ``pipeline`` run through this small process rather than
as its own child: Linux carries a process's peak resident memory (``ru_maxrss``) across
``exec``, and a child starts out with the memory of the process that forked it, so a
child of the benchmark (which holds a 100,000-manifest project in memory while it
prepares one) would report the benchmark's peak, not its own. This process is a few
megabytes, and spawns the command without copying itself (``posix_spawn``).
"""

import json
import os
import sys
import time


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"seconds": elapsed, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                   "peak_kb": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
