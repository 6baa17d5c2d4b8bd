"""What a change since a git ref does to the plan: every action whose rendering it changes
(through its manifest, a template, an include, ``vars`` or ``pipeline.yaml``), every
action that publishes a repository file it replaced, and every action it removes.

The project is rendered as it was at the ref, in a folder of its own, and compared with
the project now, action by action: a file's path says little (one template can change a
thousand posts, and a reformatted manifest changes none).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Hashable
from urllib.parse import quote

from pipeline import git
from pipeline.app.workspace import Loaded, load
from pipeline.errors import UserError
from pipeline.load.project import CONFIG_FILE, TEMPLATES_DIR
from pipeline.model.action import DesiredAction

#: The folder whose files can change what an action renders.
CONTENT = "content/"


def effects(loaded: Loaded, ref: str, files: set[str]) -> tuple[frozenset[str], str | None]:
    """The addresses that the change since ``ref`` adds, changes or removes, given the
    ``files`` changed since; and a note when the project at ``ref`` cannot be rendered
    (then every action counts as changed)."""
    if not any(f == CONFIG_FILE or f.startswith(CONTENT) for f in files):
        return frozenset(), None  # nothing that renders changed
    now = {a: _essence(action) for a, action in loaded.graph.actions.items()}
    with tempfile.TemporaryDirectory(prefix="pipeline-base-") as folder:
        base = Path(folder) / "project"
        git.export(loaded.project.root, ref, base, paths=(CONFIG_FILE, CONTENT.rstrip("/")))
        if not (base / CONFIG_FILE).is_file():
            return frozenset(now), None  # no project at the ref: everything is new
        try:
            before = {a: _essence(action) for a, action in load(base, use_cache=False).graph.actions.items()}
        except UserError:
            return frozenset(now), f"the project at {ref} could not be rendered, so every action counts as changed"
    rendered = {a for a in now.keys() | before.keys() if now.get(a) != before.get(a)}
    return frozenset(rendered | _using_media(loaded, files)), None


def _using_media(loaded: Loaded, files: set[str]) -> set[str]:
    """Actions that publish a repository file the change replaced: the request names the
    same URL, but what OneAll fetches from it is new."""
    suffixes = tuple("/" + quote(f[len(CONTENT):]) for f in files if f.startswith(CONTENT)
                     and not f.endswith((".yaml", ".yml")) and not f.startswith(CONTENT + TEMPLATES_DIR + "/"))
    if not suffixes:
        return set()
    return {address for address, action in loaded.graph.actions.items()
            if any(isinstance(v, str) and v.endswith(suffixes) for v in action.request.values())}


def _essence(action: DesiredAction) -> Hashable:
    """What an action does: to whom, what (the request's digest), when, and whether deleted."""
    return (action.type, action.identity, action.digest, action.publish_at, action.deleted)
