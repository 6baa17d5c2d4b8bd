"""The ``pipeline`` command: thin click adapters over ``pipeline.app``.

Each command parses its options, calls one use case, renders what it returns, and maps
errors to exit codes (through ``base``). Only click is imported at start-up, so
``pipeline --help`` stays instant; each command imports the rest when it runs.
"""

from pipeline.cli import adopt, other, preview, publish, state  # noqa: F401 - each registers its commands
from pipeline.cli.base import cli


def main() -> None:
    cli(prog_name="pipeline")


__all__ = ["cli", "main"]
