"""Plans and states as versioned JSON, for programs (and saved plans, read back by apply)."""

from __future__ import annotations

from pipeline.files import dumps
from pipeline.model.plan import PLAN_FILE, Plan
from pipeline.model.state import FORMAT_VERSION, State


def state_json(state: State) -> str:
    """The versioned machine-readable form of ``show``."""
    return dumps({
        "format_version": FORMAT_VERSION,
        "site": state.site,
        "lineage": state.lineage,
        "serial": state.serial,
        "resources": [
            {"address": address, **record.model_dump(mode="json", exclude_none=True)}
            for address, record in sorted(state.resources.items())
        ],
    })


def plan_json(plan: Plan) -> str:
    """The plan, every change with its old and new values; ``pipeline apply FILE`` reads it."""
    return dumps(PLAN_FILE.dump_python(plan, mode="json"))
