"""The plan as a model: per address, what apply would do and why."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, TypeAdapter

from pipeline.model.journal import Verb
from pipeline.model.state import FORMAT_VERSION, Record

ChangeKind = Literal["create", "update", "delete", "wait", "overdue", "noop", "changed", "orphan", "unknown"]
#: The order plans list and count kinds in.
CHANGE_KINDS: tuple[ChangeKind, ...] = ("create", "update", "delete", "wait", "overdue", "unknown", "changed",
                                        "noop", "orphan")
#: The kinds apply carries out: one POST, one PUT, one DELETE.
SENDING: frozenset[str] = frozenset({"create", "update", "delete"})


# Plans are plain frozen dataclasses: a plan of thirty thousand changes is built on every
# run, and pydantic validates them only where they come from outside (a saved plan).
_PLAN_CONFIG = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One request field, as it was last sent and as the manifest renders it now."""

    __pydantic_config__: ClassVar[ConfigDict] = _PLAN_CONFIG
    field: str
    old: Any = None
    new: Any = None


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much
class Change:
    """What apply would do with one address, and why."""

    __pydantic_config__: ClassVar[ConfigDict] = _PLAN_CONFIG
    kind: ChangeKind
    address: str
    type: str
    identity: str
    #: Rendered request fields; a reference is ``{"ref": "<address>"}``.
    request: dict[str, Any] = dataclass_field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    digest: str = ""
    reason: str | None = None
    publish_at: datetime | None = None
    #: ``create`` of an address that is already published: the user asked for it anew.
    replace: bool = False
    record: Record | None = None
    source: str | None = None
    #: ``noop`` of a post recorded under another address (its manifest moved).
    moved_from: str | None = None
    #: The change since ``Plan.changed_since`` adds, changes or removes this action's rendering.
    in_change: bool = False
    #: ``delete`` of the old post that a ``--replace`` superseded, not of the address's own.
    superseded: bool = False

    #: For ``update`` and ``changed``: each field whose rendering changed since it was
    #: last sent, old and new (empty when what was sent is not known).
    diff: tuple[FieldDiff, ...] = ()

    @property
    def verb(self) -> Verb:
        """The request a change apply carries out makes: POST, PUT or DELETE."""
        if self.kind in ("update", "delete"):
            return "update" if self.kind == "update" else "delete"
        assert self.kind == "create", self.kind
        return "create"

    @property
    def key(self) -> str:
        """Unique within a plan: an address may also have its superseded post to delete."""
        return f"{self.address} (replaced post)" if self.superseded else self.address


@dataclass(frozen=True, slots=True)
class Plan:
    """The ordered changes; ``apply`` carries out the ``create`` ones.

    Saved with ``plan --out``, it also says what it was made from, so that applying it
    is refused once anything it rests on has changed.
    """

    __pydantic_config__: ClassVar[ConfigDict] = _PLAN_CONFIG
    site: str
    created_at: datetime
    changes: tuple[Change, ...]
    format_version: Literal[1] = FORMAT_VERSION
    #: The state it was planned against ("" and 0: no state file yet).
    state_lineage: str = ""
    state_serial: int = 0
    #: Digest of pipeline.yaml, everything under content/ and the configuration in force.
    inputs_digest: str = ""
    #: With ``--changed-since REF``: the ref; the changes it affects have ``in_change``, listed first.
    changed_since: str | None = None
    #: In a remembered plan's summary only: unchanged actions counted but not listed.
    noop_omitted: int = 0
    #: With ``changed_since``: what the change does to the state file itself, one
    #: sentence each (it can make a merge publish a post twice, or never).
    warnings: tuple[str, ...] = ()
    #: How the plan was made, when a reader should know (a cache that was not trusted).
    notes: tuple[str, ...] = ()

    def count(self, kind: ChangeKind) -> int:
        listed = sum(1 for c in self.changes if c.kind == kind)
        return listed + self.noop_omitted if kind == "noop" else listed

    @property
    def pending(self) -> bool:
        """Whether apply has anything to send now."""
        return any(c.kind in SENDING for c in self.changes)

    @property
    def sending(self) -> tuple[Change, ...]:
        """The changes apply carries out, in plan order."""
        return tuple(c for c in self.changes if c.kind in SENDING)

    @property
    def moves(self) -> tuple[Change, ...]:
        """Posts whose address changed: apply records them under the new one."""
        return tuple(c for c in self.changes if c.moved_from)


#: Reads and writes saved plans (``plan --out``), with full validation on the way in.
PLAN_FILE: TypeAdapter[Plan] = TypeAdapter(Plan)
