"""``python -m pipeline``: the same command as ``pipeline``."""

from pipeline.cli import main

main()
