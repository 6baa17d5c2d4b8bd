"""pipeline: a declarative, Git-driven publishing pipeline on the OneAll Push API."""

__version__ = "0.2.0"
