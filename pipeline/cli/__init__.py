"""The ``pipeline`` command: thin click adapters over ``pipeline.app``.

Each command parses its options, calls one use case, renders what it returns, and maps
errors to exit codes (through ``base``). Only click is imported at start-up, so
``pipeline --help`` stays instant; each command imports the rest when it runs.
"""

import gc

from pipeline.cli import adopt, other, preview, publish, state  # noqa: F401 - each registers its commands
from pipeline.cli.base import cli


def main() -> None:
    # A run holds tens of thousands of long-lived objects (results, records, changes): at
    # the collector's default pace it walks them again and again, a third of a cold
    # plan's time. Cycles are still collected, some tens of thousands of objects late.
    gc.set_threshold(50_000, 20, 100)
    try:
        cli(prog_name="pipeline")
    finally:
        # The interpreter's last collection walks every object left (a plan, a state,
        # a compile's results) only to free memory the system takes back anyway: a
        # tenth of a second. Everything this process writes is closed or flushed by
        # then, by the code that wrote it; standard output is flushed at exit.
        gc.freeze()


__all__ = ["cli", "main"]
