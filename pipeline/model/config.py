"""``pipeline.yaml`` as a model: the site, its identities, vars and run settings."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pipeline import catalog

#: Every model a user writes is strict: an unknown key is a mistake, not an extension.
STRICT = ConfigDict(extra="forbid", frozen=True)

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SUBDOMAIN_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host and no white space: what OneAll can fetch."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    return value


HttpUrlStr = Annotated[str, AfterValidator(check_http_url)]


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"is not a time zone name such as Europe/Paris: {value!r}") from None
    return value



class Identity(BaseModel):
    """A connected social account: what OneAll calls an identity."""

    model_config = STRICT
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
    per_identity: dict[Literal[(*catalog.NETWORKS, "default")], Annotated[int, Field(ge=1, le=64)]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description=(
            "Requests in flight at once for one account, by network (or default: 4): "
            "what each network tolerates before it throttles."))
    late_after: Annotated[float, Field(ge=0, description=(
        "Seconds after its publish_at past which a scheduled post that was never published is "
        "overdue: planned as such and not published unless asked (--publish-overdue). "
        "Default: 6 hours."))] = 21600.0
    settle_after: Annotated[float, Field(ge=0, description=(
        "Seconds after which an unknown outcome that reading back cannot find is taken as "
        "not published, and sent again."))] = 120.0

