"""Manifests as models: one action model per endpoint, generated from the catalogue.

A new endpoint needs no code here. The models validate an action *after* rendering
(limits apply to the rendered text) and are also what the JSON Schema for editors is
generated from.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    create_model,
    model_validator,
)

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.model.config import NAME_PATTERN, STRICT, check_http_url

#: A reference names an action of the same manifest, or ``<manifest path>/<name>``.
REF_PATTERN = r"^([A-Za-z0-9_.-]+/)*[A-Za-z0-9][A-Za-z0-9_.-]*$"


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


class Ref(BaseModel):
    """``{ref: NAME}``: the id that another action's result will hold."""

    model_config = STRICT
    ref: Annotated[str, Field(pattern=REF_PATTERN, description="An action of this manifest, or <manifest path>/<name>.")]


_NOT_IN_ID = re.compile(r"[\s/?#%]")
#: The usual form of an http(s) URL, which ``check_http_url`` accepts: tried first, as
#: splitting every URL costs ten times as much. Anything else is checked in full.
_USUAL_URL = re.compile(r"https?://[A-Za-z0-9._~-]+(?::[0-9]*)?(?:[/?#]\S*)?")


def _http_url(value: str) -> str:
    return value if _USUAL_URL.fullmatch(value) else check_http_url(value)


_HttpUrl = Annotated[str, AfterValidator(_http_url)]


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
    if isinstance(value, str) and (_NOT_IN_ID.search(value.strip()) or value.strip() in (".", "..")):
        raise ValueError(f"must be an id: no spaces, '/', '?', '#' or '%', and not . or .., got {value!r}")
    return value


class MediaFile(BaseModel):
    """``{file: PATH}``: a file under ``content/``, published through ``media_base_url``."""

    model_config = STRICT
    file: Annotated[str, Field(min_length=1, description="A path relative to content/.")]


def _coerce_media(value: Any) -> Any:
    # Checked here rather than by the union, so a mistake gets one message, not one per member.
    if isinstance(value, dict):
        if set(value) != {"file"}:
            raise ValueError("must be a URL or {file: PATH}")
        return MediaFile.model_validate(value)
    if isinstance(value, str):
        return _http_url(value)
    if isinstance(value, MediaFile):
        return value
    raise ValueError(f"must be a URL or {{file: PATH}}, got {value!r}")


MediaValue = Annotated[Union[str, MediaFile], BeforeValidator(_coerce_media)]


class ActionBase(BaseModel):
    """What every action model shares: ``file:`` may stand for the required media field."""

    model_config = STRICT
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
        return MediaValue if spec.media else _HttpUrl
    if spec.kind is Kind.ID:
        return IdValue
    if spec.kind is Kind.ID_LIST:
        return Annotated[list[IdValue], Field(max_length=spec.max_items)]
    if spec.kind is Kind.BOOL:
        return bool
    if spec.kind is Kind.INT:
        return Annotated[int, Field(ge=0, strict=True)]
    if spec.kind is Kind.ENUM:
        return Literal[spec.choices]
    raise AssertionError(spec.kind)


@cache
def action_model(type_name: str) -> type[BaseModel]:
    """The model of one action of ``type_name`` as written in a manifest."""
    endpoint = catalog.BY_TYPE[type_name]
    fields: dict[str, Any] = {
        "type": (Literal[type_name], Field(description=endpoint.summary)),
        "identity": (str, Field(description="An identity named in pipeline.yaml, of this network.")),
        "publish_at": (
            PublishAt | None,
            Field(None, description="Publish at or after this time (ISO 8601, with an offset)."),
        ),
        "deleted": (bool, Field(False, description=(
            "Delete what was published (where OneAll's Update API can), and never publish it "
            "again. Removing the manifest instead deletes nothing."))),
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

