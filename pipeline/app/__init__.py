"""Use cases: what each command does, returning results and never printing.

The CLI calls one use case per command and renders what it returns:
``workspace`` opens and loads a project, ``planning`` makes plans (``remember`` keeps
them for the next run), ``applying`` carries
them out, ``state`` holds the commands that change the state without sending anything,
``previewing`` writes the visual preview and the calendar.
"""

from pipeline.app.adopt import import_one, refresh
from pipeline.app.applying import Applied, apply
from pipeline.app.harvest import import_generate
from pipeline.app.planning import inputs_digest, make_plan, plan, plan_and_remember, plan_command
from pipeline.app.remember import incremental_plan, remembered_plan
from pipeline.app.previewing import calendar_command, preview_command
from pipeline.app.state import accept, forget, move, published_among, resolve, show, unlock
from pipeline.app.workspace import Loaded, Workspace, load, load_workspace, open_workspace

__all__ = [
    "Applied", "Loaded", "Workspace", "accept", "apply", "forget", "import_generate", "import_one",
    "inputs_digest", "load", "refresh",
    "load_workspace", "make_plan", "move", "open_workspace", "plan", "plan_and_remember",
    "plan_command", "published_among", "remembered_plan", "incremental_plan", "resolve", "show", "unlock",
    "calendar_command", "preview_command",
]
