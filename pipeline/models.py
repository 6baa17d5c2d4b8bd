"""Pydantic models: configuration, manifests (one action model per endpoint), state, plan.

The action models are generated from the catalogue, so a new endpoint needs no code
here. They validate an action *after* rendering (limits apply to the rendered text)
and are also what the JSON Schema for editors is generated from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from typing import Annotated, Any, ClassVar, Literal, Union
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    model_validator,
    StringConstraints,
    TypeAdapter,
    create_model,
)

from . import catalog
from .catalog import Kind

FORMAT_VERSION: Literal[1] = 1

_STRICT = ConfigDict(extra="forbid", frozen=True)

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: A reference names an action of the same manifest, or ``<manifest path>/<name>``.
REF_PATTERN = r"^([A-Za-z0-9_.-]+/)*[A-Za-z0-9][A-Za-z0-9_.-]*$"
SUBDOMAIN_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host and no white space: what OneAll can fetch."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    return value


HttpUrlStr = Annotated[str, AfterValidator(check_http_url)]


def _time_text(value: Any) -> Any:
    # Pydantic would read a number as a Unix time: 20261201 is not December 1st.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 time with an offset, such as "
                         f"2026-12-01T09:00:00+01:00, got {value!r}")
    if "{{" in value or "{%" in value:
        raise ValueError("is not a template: write the time itself")
    return value


#: With an offset, or a local time read in pipeline.yaml's ``timezone``.
PublishAt = Annotated[datetime, BeforeValidator(_time_text)]


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"is not a time zone name such as Europe/Paris: {value!r}") from None
    return value


class Ref(BaseModel):
    """``{ref: NAME}``: the id that another action's result will hold."""

    model_config = _STRICT
    ref: Annotated[str, Field(pattern=REF_PATTERN, description="An action of this manifest, or <manifest path>/<name>.")]


def _coerce_id(value: Any) -> Any:
    # YAML reads an unquoted numeric id as an int; ids are strings on the wire.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        extra = sorted(map(str, set(value) - {"ref"}))
        if extra or "ref" not in value:
            raise ValueError("must be an id or a reference written {ref: NAME}"
                             + (f"; unexpected key(s): {', '.join(extra)}" if extra else ""))
        return Ref.model_validate(value)
    if not isinstance(value, (str, Ref)):
        raise ValueError(f"must be an id (a string) or a reference {{ref: NAME}}, got {value!r}")
    if isinstance(value, str) and re.search(r"[\s/?#%]", value.strip()):
        raise ValueError(f"must be an id: no spaces, '/', '?', '#' or '%', got {value!r}")
    return value


class MediaFile(BaseModel):
    """``{file: PATH}``: a file under ``content/``, published through ``media_base_url``."""

    model_config = _STRICT
    file: Annotated[str, Field(min_length=1, description="A path relative to content/.")]


def _coerce_media(value: Any) -> Any:
    # Checked here rather than by the union, so a mistake gets one message, not one per member.
    if isinstance(value, dict):
        if set(value) != {"file"}:
            raise ValueError("must be a URL or {file: PATH}")
        return MediaFile.model_validate(value)
    if isinstance(value, str):
        return check_http_url(value)
    if isinstance(value, MediaFile):
        return value
    raise ValueError(f"must be a URL or {{file: PATH}}, got {value!r}")


MediaValue = Annotated[Union[str, MediaFile], BeforeValidator(_coerce_media)]


class ActionBase(BaseModel):
    """What every action model shares: ``file:`` may stand for the required media field."""

    model_config = _STRICT
    __media_field__: ClassVar[str | None] = None

    @model_validator(mode="after")
    def _one_medium(self) -> "ActionBase":
        name = self.__media_field__
        if name is not None:
            given = [n for n in (name, "file") if getattr(self, n) is not None]
            if len(given) != 1:
                raise ValueError(f"give either {name!r} (a URL) or 'file' (a path under content/)"
                                 + (", not both" if given else ""))
        return self


IdValue = Annotated[
    Union[Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)], Ref],
    BeforeValidator(_coerce_id),
]


def _field_type(spec: catalog.Field) -> Any:
    """The pydantic type of a catalogue field, constraints included."""
    if spec.kind is Kind.TEXT:
        # A required text may not be empty: an empty tweet or nameless board is a mistake.
        return Annotated[str, StringConstraints(min_length=1 if spec.required else 0,
                                                max_length=spec.max_length)]
    if spec.kind is Kind.URL:
        return MediaValue if spec.media else HttpUrlStr
    if spec.kind is Kind.ID:
        return IdValue
    if spec.kind is Kind.ID_LIST:
        return Annotated[list[IdValue], Field(max_length=spec.max_items)]
    if spec.kind is Kind.BOOL:
        return bool
    if spec.kind is Kind.ENUM:
        return Literal[spec.choices]
    raise AssertionError(spec.kind)


@cache
def action_model(type_name: str) -> type[BaseModel]:
    """The model of one action of ``type_name`` as written in a manifest."""
    endpoint = catalog.BY_TYPE[type_name]
    fields: dict[str, Any] = {
        "type": (Literal[type_name], Field(description=endpoint.summary)),  # type: ignore[valid-type]
        "identity": (str, Field(description="An identity named in pipeline.yaml, of this network.")),
        "publish_at": (
            PublishAt | None,
            Field(None, description="Publish at or after this time (ISO 8601, with an offset)."),
        ),
    }
    media = endpoint.primary_media
    extra: dict[str, Any] = {}
    for spec in endpoint.fields:
        required = spec.required and spec.name != media
        annotation = _field_type(spec) if required else _field_type(spec) | None
        fields[spec.name] = (annotation, Field(... if required else None, description=spec.doc))
    if media:
        fields["file"] = (str | None, Field(None, min_length=1, description=(
            f"A file under content/ published as {media!r} through media_base_url.")))
        extra = {"oneOf": [{"required": [media]}, {"required": ["file"]}]}
    name = "".join(part.title() for part in type_name.split(".")) + "Action"
    model = create_model(name, __base__=ActionBase, **fields)
    model.__media_field__ = media
    model.model_config["json_schema_extra"] = extra or None
    return model


def manifest_model() -> type[BaseModel]:
    """A whole manifest: the discriminated union of every endpoint's action."""
    models = tuple(action_model(e.type) for e in catalog.ENDPOINTS)
    action = Annotated[Union[models], Discriminator("type")]  # type: ignore[valid-type]
    return create_model(
        "Manifest",
        __config__=ConfigDict(extra="forbid", title="pipeline manifest"),
        vars=(dict[str, Any], Field(default_factory=dict, description="Variables for the templates.")),
        publish_at=(PublishAt | None, Field(None, description="Default publish time of every action.")),
        actions=(dict[Annotated[str, Field(pattern=NAME_PATTERN)], action], ...),
    )


class Identity(BaseModel):
    """A connected social account: what OneAll calls an identity."""

    model_config = _STRICT
    network: Literal[catalog.NETWORKS]  # type: ignore[valid-type]
    token: Annotated[str, Field(pattern=UUID_PATTERN, description="OneAll identity_token (a UUID).")]


class Config(BaseModel):
    """``pipeline.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="pipeline.yaml")
    site: Annotated[str, Field(description='"sandbox", or the OneAll site subdomain.')] = "sandbox"
    identities: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Identity] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    media_base_url: HttpUrlStr | None = None
    timeout: Annotated[float, Field(gt=0, le=300, description="Seconds to wait for OneAll.")] = 30.0
    timezone: Annotated[str, AfterValidator(_zone), Field(description=(
        "The time zone of a publish_at written without an offset, e.g. Europe/Paris."))] | None = None
    per_identity: dict[Literal[(*catalog.NETWORKS, "default")], Annotated[int, Field(ge=1, le=64)]] = Field(  # type: ignore[misc,valid-type]
        default_factory=dict, description=(
            "Requests in flight at once for one account, by network (or default: 4): "
            "what each network tolerates before it throttles."))
    settle_after: Annotated[float, Field(ge=0, description=(
        "Seconds after which an unknown outcome that reading back cannot find is taken as "
        "not published, and sent again."))] = 120.0


# ---------------------------------------------------------------- state


class Record(BaseModel):
    """What the state knows of one address."""

    model_config = _STRICT
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


# ---------------------------------------------------------------- plan

ChangeKind = Literal["create", "wait", "noop", "changed", "orphan", "unknown"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("create", "wait", "unknown", "changed", "noop", "orphan")


# Plans are plain frozen dataclasses: a plan of thirty thousand changes is built on every
# run, and pydantic validates them only where they come from outside (a saved plan).
_PLAN_CONFIG = ConfigDict(extra="forbid")


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
    #: Comes from a manifest changed since ``Plan.changed_since``.
    in_change: bool = False


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
    #: With ``--changed-since REF``: the ref; changes from files changed since have ``in_change``.
    changed_since: str | None = None
    #: In a remembered plan's summary only: unchanged actions counted but not listed.
    noop_omitted: int = 0

    def count(self, kind: ChangeKind) -> int:
        listed = sum(1 for c in self.changes if c.kind == kind)
        return listed + self.noop_omitted if kind == "noop" else listed

    @property
    def pending(self) -> bool:
        """Whether apply has anything to send now."""
        return any(c.kind == "create" for c in self.changes)

    @property
    def moves(self) -> tuple[Change, ...]:
        """Posts whose address changed: apply records them under the new one."""
        return tuple(c for c in self.changes if c.moved_from)


#: Reads and writes saved plans (``plan --out``), with full validation on the way in.
PLAN_FILE: TypeAdapter[Plan] = TypeAdapter(Plan)
