"""The endpoint catalogue: the single source of truth for OneAll's Push, Update and Pull APIs.

One ``Endpoint`` per Push endpoint (docs/oneall-api.md §4), with what the Update API
can do to what it published (§6) and the Pull resource that lists it (§7). Everything
else derives from this table: the manifest models and their JSON Schema, validation
after rendering, the client's paths and bodies, the planner's choice between ``update``
and ``changed``, the sandbox's routes and checks, settling, and the reference page.
Every *[contract]* assumption of the API reference lives here (the ``source`` of an
entry says which), so that a correction touches this file only.

Adding an endpoint means adding one entry to ``ENDPOINTS``.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping
from urllib.parse import quote

NETWORKS = ("facebook", "linkedin", "pinterest", "twitter", "youtube")

#: Media that OneAll fetches by URL: at most 5 MB, these formats [doc].
PICTURE_MAX_BYTES = 5 * 1024 * 1024
PICTURE_FORMATS = ("jpeg", "bmp", "png", "gif", "tiff")

#: Result fields every endpoint returns besides its ids [contract, §2].
RESULT_ENVELOPE_FIELDS = ("provider", "object")

# ---------------------------------------------------------------- Pull answers (§7)
#: The most entries one Pull page may hold [doc]; the pipeline asks for pages this size.
PULL_MAX_PAGE = 500
#: Where an entry keeps its id, URL, text and date [contract]: the first key present
#: wins; ``{object}`` is the endpoint's result object (``post``, ``pin`` …).
PULL_ENTRY_ID = ("{object}_id", "id")
PULL_ENTRY_URL = ("{object}_location", "url")
PULL_ENTRY_TEXT = ("text", "message")
PULL_ENTRY_DATE = ("date", "date_creation")

# ---------------------------------------------------------------- transport (§5)
#: Answers larger than this are refused without being read whole [contract].
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class Kind(enum.Enum):
    """What a field holds, which decides how it validates and renders."""

    TEXT = "text"
    URL = "url"  # absolute http(s) URL
    ID = "id"  # a literal id, or a reference to an action that creates one
    ID_LIST = "id_list"  # a list of those
    BOOL = "bool"
    ENUM = "enum"
    INT = "int"  # a whole number (a section's position)


@dataclass(frozen=True, slots=True)
class Field:
    """One request field as the manifest names it, and how it goes on the wire."""

    name: str
    kind: Kind
    doc: str
    required: bool = False
    #: Name inside the body node when it differs from the manifest's (``page`` -> ``id``).
    wire: str | None = None
    #: The field fills a ``{name}`` parameter of the path instead of the body.
    in_path: bool = False
    max_length: int | None = None
    max_items: int | None = None
    choices: tuple[str, ...] = ()
    #: Endpoint types whose result may fill this field through a ``{ref: …}``.
    accepts: tuple[str, ...] = ()
    #: A referenced action must publish through the same identity (media ids and
    #: boards belong to the account that created them).
    same_identity: bool = False
    #: For URL fields: the medium the URL points at, so ``file:`` may stand for it.
    media: Literal["picture", "video"] | None = None
    #: For ID lists: referenced types that must be the list's only item (a tweet
    #: attaches up to 4 pictures, or exactly 1 video, never a mix).
    alone: tuple[str, ...] = ()

    @property
    def wire_name(self) -> str:
        return self.wire or self.name


@dataclass(frozen=True, slots=True)
class Update:
    """What OneAll's Update API can do to what one endpoint published (§6).

    ``path`` is under ``/update/identities/<token>/``; its ``{name}`` parameters are
    filled from the request's values (the page, the playlist) and from the ids the
    Push result returned (``{post_id}``). ``edit_node`` is the PUT body's node path
    (``None``: OneAll cannot edit it); ``editable`` are the manifest fields a PUT can
    change: a change to any other field cannot be made in place.
    """

    path: str
    deletable: bool
    edit_node: tuple[str, ...] | None = None
    editable: tuple[str, ...] = ()
    source: Literal["doc", "contract"] = "doc"

    @property
    def can_edit(self) -> bool:
        return self.edit_node is not None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One Push endpoint: ``POST /push/identities/<token>/<path>``."""

    type: str
    network: str
    path: str  # may hold ``{field}`` parameters, filled from ``in_path`` fields
    #: The body's node path: {"request": {"push": {node[0]: {node[1]: {...}}}}}.
    node: tuple[str, ...]
    object: str  # the result's ``object``; its id is ``<object>_id``
    results: tuple[str, ...]  # result fields besides provider and object
    fields: tuple[Field, ...]
    summary: str
    source: Literal["doc", "contract"]
    #: At least one field of each group must be given (Facebook post: message or link).
    one_of: tuple[tuple[str, ...], ...] = ()
    #: At most one field of each group may be given (Facebook post: link or attachments).
    exclusive: tuple[tuple[str, ...], ...] = ()
    #: What the Update API can do to a published action; ``None``: nothing.
    update: Update | None = None
    #: OneAll processes the upload after answering and POSTs to ``callback_url``.
    asynchronous: bool = False
    #: The Pull API path listing what this endpoint published, and its collection.
    pull: str | None = None
    pull_collection: str | None = None
    #: An upload the network deletes if no post uses it within this time.
    unattached_ttl: timedelta | None = None
    by_name: Mapping[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def id_field(self) -> str:
        """The result field that a reference to this endpoint's action resolves to."""
        return f"{self.object}_id"

    @property
    def primary_media(self) -> str | None:
        """The required media field, which an action may give as ``file:`` instead."""
        return next((f.name for f in self.fields if f.media and f.required), None)

    @property
    def location_field(self) -> str | None:
        name = f"{self.object}_location"
        return name if name in self.results else None

    def push_path(self, token: str, values: Mapping[str, Any]) -> str:
        """The resource path for this endpoint, path parameters filled in."""
        params = {f.name: segment(values[f.name]) for f in self.fields if f.in_path}
        return f"/push/identities/{token}/" + self.path.format(**params)

    def pull_path(self, token: str, values: Mapping[str, Any]) -> str | None:
        """The Pull API resource listing what this endpoint published with ``values``."""
        if self.pull is None:
            return None
        params = {f.name: segment(values[f.name]) for f in self.fields
                  if f"{{{f.name}}}" in self.pull}
        return f"/pull/identities/{token}/" + self.pull.format(**params)

    @property
    def node_name(self) -> str:
        """The body node as OneAll's messages name it: ``channel.section``."""
        return ".".join(self.node)

    @property
    def editable(self) -> bool:
        return self.update is not None and self.update.can_edit

    @property
    def deletable(self) -> bool:
        return self.update is not None and self.update.deletable

    def wire_fields(self, values: Mapping[str, Any], only: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The body node's fields for resolved values (references replaced by ids)."""
        return {
            self.by_name[name].wire_name: value
            for name, value in values.items()
            if value is not None and not self.by_name[name].in_path and (only is None or name in only)
        }

    def wire_body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The Push request's JSON body."""
        return {"request": {"push": nest(self.node, self.wire_fields(values))}}

    def update_path(self, token: str, values: Mapping[str, Any], result: Mapping[str, str]) -> str:
        """The Update API resource of what this endpoint published (PUT and DELETE)."""
        assert self.update is not None, self.type
        params = {name: segment(value) for name, value in {**values, **result}.items()
                  if f"{{{name}}}" in self.update.path}
        return f"/update/identities/{token}/" + self.update.path.format(**params)

    def edit_body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The PUT body: every editable field the manifest renders, so that the post
        ends up exactly as the manifest says [contract: a PUT replaces what it names]."""
        assert self.update is not None and self.update.edit_node is not None, self.type
        fields = self.wire_fields(values, only=self.update.editable)
        return {"request": {"update": nest(self.update.edit_node, fields)}}

    def can_edit(self, changed: set[str] | frozenset[str]) -> bool:
        """Whether a change of these manifest fields can be made in place with a PUT."""
        return self.editable and self.update is not None and changed <= set(self.update.editable)


def is_segment(value: Any) -> bool:
    """Whether ``value`` can stand as one segment of a resource path: some text that is
    neither ``.`` nor ``..`` (which a URL resolves away, turning "remove this video from
    the playlist" into "delete the video") and holds no control character."""
    text = str(value)
    return text not in ("", ".", "..") and text.isprintable()


def segment(value: Any) -> str:
    """``value`` as one segment of a resource path.

    Raises:
        ValueError: it cannot be one (see ``is_segment``).
    """
    if not is_segment(value):
        raise ValueError(f"{str(value)!r} cannot be an id in a resource path")
    return quote(str(value), safe="")


def nest(path: tuple[str, ...], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` under the node path: ``("channel", "section")`` -> {"channel": {"section": …}}."""
    body: dict[str, Any] = fields
    for name in reversed(path):
        body = {name: body}
    return body


def _text(name: str, doc: str, **kw: Any) -> Field:
    return Field(name, Kind.TEXT, doc, **kw)


def _url(name: str, doc: str, **kw: Any) -> Field:
    return Field(name, Kind.URL, doc, **kw)


_MESSAGE = _text("message", "The text of the post.")
_LINK = _url("link", "A link shown with the post.")
_DESCRIPTION = _text("description", "A description shown with the media.")
_CREATE_POST = Field(
    "create_post", Kind.BOOL, "Also show the upload in a new timeline post (OneAll's default: true)."
)


def _attachments(*accepts: str, max_items: int | None = None) -> Field:
    return Field(
        "attachments",
        Kind.ID_LIST,
        "Ids of media uploaded before, or references to the actions that upload them.",
        max_items=max_items,
        accepts=accepts,
        same_identity=True,
    )


def _target(name: str, what: str) -> Field:
    """The page, group or company a Facebook/LinkedIn action publishes to.

    No Push endpoint creates these, so only literal ids (from the Pull API) fit.
    """
    return Field(name, Kind.ID, f"The {what} id (from the Pull API).", required=True,
                 wire="id" if name in ("page", "group") else None)


def _facebook_family(scope: str | None, source: Literal["doc", "contract"],
                     picture_source: Literal["doc", "contract"]) -> list[Endpoint]:
    """Facebook's post/picture/video triple for the user, a page or a group."""
    prefix = f"facebook.{scope}" if scope else "facebook"
    path = f"facebook/{scope}/" if scope else "facebook/"
    target = [_target(scope, f"Facebook {scope}")] if scope else []
    where = f"a Facebook {scope}" if scope else "the user's Facebook timeline"
    create_post = [] if scope else [_CREATE_POST]
    pull = f"facebook/{scope}/{{{scope}}}/posts.json" if scope else "facebook/posts.json"
    # Only a page's posts, pictures and videos can be edited or deleted [doc, §6].
    page = scope == "page"
    return [
        Endpoint(
            type=f"{prefix}.post", network="facebook", path=path + "post.json",
            node=(scope or "post",), object="post", results=("post_id", "post_location"),
            fields=(*target, _MESSAGE, _LINK, _attachments(f"{prefix}.picture")),
            one_of=(("message", "link"),),
            # [doc for the page post's Update body; assumed for every Facebook post]
            exclusive=(("link", "attachments"),),
            summary=f"A post on {where}.",
            source=source, pull=pull, pull_collection="posts",
            update=Update("facebook/page/{page}/post/{post_id}.json", deletable=True,
                          edit_node=("post",), editable=("message", "link", "attachments"))
            if page else None,
        ),
        Endpoint(
            type=f"{prefix}.picture", network="facebook", path=path + "picture.json",
            node=(scope or "picture",), object="picture",
            results=("picture_id",) if scope else ("picture_id", "post_id"),
            fields=(*target, _url("url", "The picture's URL; OneAll fetches it.",
                                  required=True, media="picture"), _DESCRIPTION, *create_post),
            summary=f"A picture uploaded to {where}.", source=picture_source,
            update=Update("facebook/page/{page}/picture/{picture_id}.json", deletable=True)
            if page else None,
        ),
        Endpoint(
            type=f"{prefix}.video", network="facebook", path=path + "video.json",
            node=(scope or "video",), object="video", results=("video_id",),
            fields=(*target, _url("url", "The video's URL; OneAll fetches it.",
                                  required=True, media="video"), _DESCRIPTION, *create_post),
            summary=f"A video uploaded to {where}.",
            source="doc" if not scope else "contract",
            update=Update("facebook/page/{page}/video/{video_id}.json", deletable=True)
            if page else None,
        ),
    ]


def _linkedin(scope: str | None) -> Endpoint:
    company = [_target("company", "LinkedIn company")] if scope else []
    return Endpoint(
        type="linkedin.company.post" if scope else "linkedin.post", network="linkedin",
        path="linkedin/company/post.json" if scope else "linkedin/post.json",
        node=("post",), object="post", results=("post_id", "post_location"),
        fields=(
            *company, _MESSAGE, _LINK,
            _text("title", "The title of the shared link."),
            _text("description", "The description of the shared link."),
            _url("picture", "An image shown with the post.", media="picture"),
        ),
        summary="A post on a LinkedIn company page." if scope else "A post on the user's LinkedIn feed.",
        source="doc",
        pull="linkedin/company/{company}/posts.json" if scope else "linkedin/user/posts.json",
        pull_collection="posts",
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    *_facebook_family(None, "doc", "doc"),
    *_facebook_family("group", "contract", "contract"),
    *_facebook_family("page", "doc", "doc"),
    _linkedin(None),
    _linkedin("company"),
    Endpoint(
        type="pinterest.board", network="pinterest", path="pinterest/board.json",
        node=("board",), object="board", results=("board_id", "board_location"),
        fields=(_text("name", "The board's name.", required=True),
                _text("description", "What the board is about.")),
        summary="A Pinterest board.", source="contract",
        pull="pinterest/boards.json", pull_collection="boards",
    ),
    Endpoint(
        type="pinterest.pin", network="pinterest", path="pinterest/board/{board}/pin.json",
        node=("pin",), object="pin", results=("pin_id", "pin_location"),
        fields=(
            Field("board", Kind.ID, "The board to pin on: an id or a reference to a pinterest.board.",
                  required=True, in_path=True, accepts=("pinterest.board",), same_identity=True),
            _text("description", "The pin's description."),
            _url("picture", "The image to pin.", required=True, media="picture"),
            _url("link", "Where the pin leads."),
        ),
        summary="A pin on a Pinterest board.", source="contract",
        pull="pinterest/board/{board}/pins.json", pull_collection="pins",
        # The Update body names the board by its *name* where the Push path takes its
        # id, so moving a pin to another board is not made in place [contract]: the
        # edit sends description and link, and leaves the pin on its board.
        update=Update("pinterest/pin/{pin_id}.json", deletable=True, edit_node=("pin",),
                      editable=("description", "link")),
    ),
    Endpoint(
        type="twitter.post", network="twitter", path="twitter/post.json",
        node=("post",), object="post", results=("post_id", "post_location"),
        fields=(
            _text("message", "The tweet's text.", required=True, max_length=140),
            _text("location", "A place name attached to the tweet."),
            # Up to 4 pictures, or exactly 1 video [Twitter's rule; contract here].
            Field("attachments", Kind.ID_LIST,
                  "Ids of media uploaded before, or references to the actions that upload them: "
                  "up to 4 pictures, or 1 video.",
                  max_items=4, accepts=("twitter.picture", "twitter.video"), same_identity=True,
                  alone=("twitter.video",)),
        ),
        summary="A tweet.", source="doc",
        pull="twitter/tweets.json", pull_collection="tweets",
        update=Update("twitter/post/{post_id}.json", deletable=True),
    ),
    Endpoint(
        type="twitter.picture", network="twitter", path="twitter/picture.json",
        node=("picture",), object="picture", results=("picture_id",),
        fields=(_url("url", "The picture's URL; OneAll fetches it.", required=True, media="picture"),
                _DESCRIPTION),
        summary="A picture uploaded to Twitter, to attach to a tweet within 24 hours.",
        source="doc", unattached_ttl=timedelta(hours=24),
    ),
    Endpoint(
        type="twitter.video", network="twitter", path="twitter/video.json",
        node=("video",), object="video", results=("video_id",),
        fields=(_url("video_url", "The video's URL; OneAll fetches it.", required=True, media="video"),
                _url("callback_url", "Where OneAll POSTs the final result.")),
        summary="A video uploaded to Twitter (processed asynchronously).",
        source="doc", asynchronous=True,
    ),
    Endpoint(
        type="youtube.video", network="youtube", path="youtube/video.json",
        node=("video",), object="video", results=("video_id", "video_location"),
        fields=(
            _url("video_url", "The video's URL; OneAll fetches it.", required=True, media="video"),
            _text("title", "The video's title.", required=True),
            _DESCRIPTION,
            _url("thumbnail_url", "A custom thumbnail.", media="picture"),
            _url("callback_url", "Where OneAll POSTs the final result."),
        ),
        summary="A video uploaded to YouTube (processed asynchronously).",
        source="doc", asynchronous=True,
    ),
    Endpoint(
        type="youtube.playlist.video", network="youtube",
        path="youtube/playlist/{playlist}/video.json",
        node=("video",), object="video", results=("playlist_id", "video_id"),
        fields=(
            Field("playlist", Kind.ID, "The playlist: an id or a reference to a youtube.playlist.",
                  required=True, in_path=True, accepts=("youtube.playlist",), same_identity=True),
            Field("video_id", Kind.ID, "The video: an id or a reference to a youtube.video.",
                  required=True, accepts=("youtube.video",)),
        ),
        summary="A video added to a YouTube playlist.", source="contract",
        pull="youtube/playlist/{playlist}/videos.json", pull_collection="videos",
        # Both ids from the Push result: the item is the pair (playlist_id, video_id).
        update=Update("youtube/playlist/{playlist_id}/video/{video_id}.json", deletable=True),
    ),
    Endpoint(
        type="youtube.playlist", network="youtube", path="youtube/playlist.json",
        node=("playlist",), object="playlist", results=("playlist_id", "playlist_location"),
        fields=(
            _text("title", "The playlist's title.", required=True),
            _text("description", "What the playlist holds."),
            # Field names after the documented Update body [contract for the Push body].
            Field("privacy_status", Kind.ENUM, "Who may see the playlist.",
                  choices=("public", "private", "unlisted")),
            _text("default_language", "The language of the title and description (e.g. en)."),
        ),
        summary="A YouTube playlist.", source="contract",
        pull="youtube/playlists.json", pull_collection="playlists",
        update=Update("youtube/playlist/{playlist_id}.json", deletable=True, edit_node=("playlist",),
                      editable=("title", "description", "privacy_status", "default_language")),
    ),
    Endpoint(
        type="youtube.channel.section", network="youtube", path="youtube/channel/section.json",
        # Nested as channel -> section, after the documented Update body [contract].
        node=("channel", "section"), object="section", results=("section_id",),
        fields=(
            # The manifest's own ``type`` key names the endpoint, so the section's
            # ``type`` field is written ``section_type`` and sent as ``type``.
            _text("section_type", "The section's kind, as YouTube names it (e.g. multiplePlaylists).",
                  wire="type"),
            _text("style", "How the section is laid out (e.g. horizontalRow)."),
            _text("title", "The section's title."),
            Field("position", Kind.INT, "Where the section stands on the channel page (0 first)."),
            Field("playlists", Kind.ID_LIST, "Playlists shown: ids or references to youtube.playlist.",
                  accepts=("youtube.playlist",), same_identity=True),
        ),
        summary="A section on the YouTube channel's page.", source="contract",
        update=Update("youtube/channel/section/{section_id}.json", deletable=True,
                      edit_node=("channel", "section"),
                      editable=("section_type", "style", "title", "position", "playlists")),
    ),
)

BY_TYPE: Mapping[str, Endpoint] = {e.type: e for e in ENDPOINTS}

#: Manifest keys of an action that are not request fields.
ACTION_META_KEYS = ("type", "identity", "publish_at", "deleted")
