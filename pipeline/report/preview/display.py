"""What a card shows: display values only, each escaped by the templates that show it.

``cards`` builds them from a plan; the templates read them and add no logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.report.preview.text import Segment

NETWORK_NAMES = {"facebook": "Facebook", "linkedin": "LinkedIn", "pinterest": "Pinterest",
                 "twitter": "Twitter", "youtube": "YouTube"}
#: How a card shows a time, in the site's zone.
TIME_FORMAT = "%a %d %b %Y, %H:%M %Z"


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A text field: its pieces, its length and the limit it is held to."""

    field: str
    segments: tuple[Segment, ...]
    length: int
    limit: int | None = None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.length > self.limit


@dataclass(frozen=True, slots=True)
class Media:
    """A picture or a video: embedded (``src``, a data: URI), or a link never loaded."""

    kind: str
    label: str
    src: str | None = None
    href: str | None = None
    alt: str = ""
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LinkPreview:
    """What a network shows of a shared link: its site, and a title, text and picture."""

    href: str | None
    label: str
    site: str
    title: str | None = None
    description: str | None = None
    picture: Media | None = None


@dataclass(frozen=True, slots=True)
class Detail:
    label: str
    value: str
    href: str | None = None
    #: A reference: its id is known after apply.
    later: bool = False


@dataclass(frozen=True, slots=True)
class Diff:
    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Card:
    """One change of the plan, for display."""

    anchor: str
    key: str
    address: str
    folder: str
    manifest: str
    type: str
    network: str
    identity: str
    kind: str
    status: str
    #: CSS class of the status: a plan kind, or ``deleted`` (a tombstone).
    tone: str
    when: datetime | None
    when_label: str
    in_change: bool
    reason: str | None
    headline: TextBlock | None
    texts: tuple[TextBlock, ...]
    media: tuple[Media, ...]
    preview: LinkPreview | None
    details: tuple[Detail, ...]
    diff: tuple[Diff, ...]
    url: str | None
    marks: tuple[str, ...]
    source: str | None

    @property
    def network_name(self) -> str:
        return NETWORK_NAMES.get(self.network, self.network)

    @property
    def snippet(self) -> str:
        """A line of the card's text, for a calendar."""
        block = self.headline or (self.texts[0] if self.texts else None)
        text = "".join(s.text for s in block.segments) if block else self.address
        text = " ".join(text.split())
        return text if len(text) <= 80 else text[:79] + "…"
