"""Use cases: what each command does, returning results and never printing.

The CLI calls one use case per command and renders what it returns:
``workspace`` opens and loads a project, ``planning`` makes plans (``remember`` keeps
them for the next run), ``applying`` carries them out, ``state`` holds the commands
that change the state without sending anything, ``previewing`` writes the visual
preview and the calendar.

Each name is imported from its module when first used (PEP 562): a plan of two
changed files should not pay for importing the executor, the HTTP client and the
preview's templates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.app.adopt import (import_one as import_one, refresh as refresh)
    from pipeline.app.applying import (Applied as Applied, apply as apply, apply_workspace as apply_workspace)
    from pipeline.app.harvest import (import_generate as import_generate)
    from pipeline.app.planning import (inputs_digest as inputs_digest, make_plan as make_plan, plan as plan, plan_and_remember as plan_and_remember, plan_command as plan_command)
    from pipeline.app.previewing import (calendar_command as calendar_command, preview_command as preview_command)
    from pipeline.app.remember import (incremental_plan as incremental_plan, remembered_plan as remembered_plan)
    from pipeline.app.state import (accept as accept, forget as forget, move as move, published_among as published_among, resolve as resolve, show as show, unlock as unlock)
    from pipeline.app.workspace import (Loaded as Loaded, Workspace as Workspace, load as load, load_workspace as load_workspace, open_workspace as open_workspace)

_WHERE = {
    "adopt": ("import_one", "refresh"),
    "applying": ("Applied", "apply", "apply_workspace"),
    "harvest": ("import_generate",),
    "planning": ("inputs_digest", "make_plan", "plan", "plan_and_remember", "plan_command"),
    "previewing": ("calendar_command", "preview_command"),
    "remember": ("incremental_plan", "remembered_plan"),
    "state": ("accept", "forget", "move", "published_among", "resolve", "show", "unlock"),
    "workspace": ("Loaded", "Workspace", "load", "load_workspace", "open_workspace"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}

__all__ = sorted(_MODULE)


def __getattr__(name: str) -> Any:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.app' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pipeline.app.{module}"), name)
    globals()[name] = value
    return value
