"""The state as a model: what has been published, per address."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.model.config import STRICT

FORMAT_VERSION: Literal[1] = 1


class Record(BaseModel):
    """What the state knows of one address."""

    model_config = STRICT
    type: str
    identity: str
    digest: str
    #: ``unknown``: a request was sent and its outcome never learned.
    status: Literal["published", "unknown"]
    result: dict[str, str] = Field(default_factory=dict)
    published_at: datetime | None = None
    attempted_at: datetime | None = None
    #: For ``unknown``: the request fields as sent (ids filled in), to read the post back.
    sent: dict[str, Any] | None = None
    #: For ``unknown`` after ``--replace``: the record it replaced, restored if it was not sent.
    replaces: "Record | None" = None


class State(BaseModel):
    """The state file: everything published through one site."""

    model_config = ConfigDict(extra="forbid")
    format_version: Literal[1] = FORMAT_VERSION
    #: Fixed when the state is first written; with ``serial`` it tells one history from
    #: another. Empty until then.
    lineage: str = ""
    serial: int = 0
    site: str
    resources: dict[str, Record] = Field(default_factory=dict)

