"""Manifests -> desired actions: validate the envelope, render, validate per endpoint.

Every problem of every manifest is collected before anything is reported, so a user
fixes a whole batch at once instead of one error per run.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.errors import Diagnostic, Location, MediaError, Refused, RenderError, UserError
from pipeline.load.media import media_url
from pipeline.model.config import NAME_PATTERN, Config
from pipeline.model.manifest import MediaFile, PublishAt, Ref, action_model
from pipeline.load.project import CONTENT_DIR, Project
from pipeline.load.source import Document, load
from pipeline.load.diagnostics import diagnostics_from, render_diagnostic
from pipeline.model.action import DesiredAction, RefUse, request_digest
from pipeline.redact import active as secrets_active
from pipeline.redact import contains_secret

if TYPE_CHECKING:  # Jinja is imported only when something is rendered: not on a warm plan
    from pipeline.load.render import Renderer

_NAME = re.compile(NAME_PATTERN)
_MANIFEST_KEYS = ("vars", "publish_at", "actions")
_PUBLISH_AT: TypeAdapter[Any] = TypeAdapter(PublishAt)


def address_prefix(project: Project, doc_path: str) -> str:
    """``content/posts/launch.yaml`` -> ``posts/launch``."""
    rel = doc_path.removeprefix("content/")
    return rel.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Compiled:
    """Every action that compiled, every problem, and the addresses that did not compile."""

    actions: list[DesiredAction]
    problems: list[Diagnostic]
    #: Addresses written in a manifest but broken, and manifest prefixes that failed
    #: to load: a reference to one of them is not reported as dangling.
    broken: frozenset[str]
    #: What the plan should say about how it was made (a cache it did not trust).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileResult:
    """What one manifest file compiles to: the unit that is cached and run in parallel."""

    actions: tuple[DesiredAction, ...]
    problems: tuple[Diagnostic, ...]
    broken: tuple[str, ...]


def compile_file(project: Project, renderer: Renderer, path: Path, real: str | None = None, *,
                 shown: str | None = None, content_dir: Path | None = None) -> FileResult:
    """Load, render and validate one manifest, collecting every problem in it.

    ``real``: its real path, as a scan of ``content/`` found it (else it is resolved,
    and must lie inside ``content/``). ``shown`` and ``content_dir``: ``project.shown(path)``
    and ``project.content_dir``, when the caller knows them already.
    """
    renderer.begin_file()
    shown = shown or project.shown(path)
    prefix = address_prefix(project, shown)
    try:
        if real is not None:
            doc = load(real, shown, vetted=True)
        else:
            try:
                content = project.real_content()
            except Refused as refused:
                raise UserError(Diagnostic(f"folder {refused.message}", Location(CONTENT_DIR))) from None
            doc = load(path, shown, inside=(content, "content/"))
    except UserError as exc:
        return FileResult((), exc.diagnostics, (prefix + "/",))
    found, errors = compile_manifest(doc, prefix, project.config, renderer, content_dir or project.content_dir)
    broken: list[str] = []
    if errors and isinstance(doc.data, dict) and isinstance(doc.data.get("actions"), dict):
        good = {a.address for a in found}
        broken = [f"{prefix}/{name}" for name in doc.data["actions"] if f"{prefix}/{name}" not in good]
    return FileResult(tuple(found), tuple(errors), tuple(broken))


def merge(results: list[FileResult]) -> Compiled:
    """Every file's result, in the order given."""
    return Compiled([a for r in results for a in r.actions], [p for r in results for p in r.problems],
                    frozenset(b for r in results for b in r.broken))


def compile_manifest(doc: Document, prefix: str, config: Config, renderer: Renderer,
                     content_dir: Path) -> tuple[list[DesiredAction], list[Diagnostic]]:
    """One manifest's actions, and every problem found in it."""
    data = doc.data
    problems: list[Diagnostic] = []
    if not isinstance(data, dict):
        return [], [Diagnostic("a manifest must be a mapping with an 'actions' key", doc.locate(()))]
    for key in data:
        if key not in _MANIFEST_KEYS:
            problems.append(Diagnostic(
                f"unknown top-level key {key!r} (allowed: {', '.join(_MANIFEST_KEYS)})",
                doc.locate((key,), key=True)))
    own_vars = data.get("vars") or {}
    if not isinstance(own_vars, dict):
        problems.append(Diagnostic("'vars' must be a mapping", doc.locate(("vars",))))
        own_vars = {}
    actions = data.get("actions")
    if not isinstance(actions, dict) or not actions:
        problems.append(Diagnostic("a manifest needs an 'actions' mapping with at least one action",
                                   doc.locate(("actions",))))
        return [], problems
    context = {**config.vars, **own_vars}
    default_publish_at = None
    if data.get("publish_at") is not None:
        try:
            default_publish_at = _PUBLISH_AT.validate_python(data["publish_at"])
        except ValidationError as exc:
            problems.extend(diagnostics_from(exc, doc, ("publish_at",), what="the manifest"))
            return [], problems
        default_publish_at, problem = _aware(default_publish_at, config, doc, ("publish_at",))
        if problem:
            return [], [*problems, problem]
    out: list[DesiredAction] = []
    for name, raw in actions.items():
        action, errors = _compile_action(doc, prefix, name, raw, default_publish_at,
                                         config, renderer, context, content_dir)
        problems.extend(errors)
        if action is not None:
            out.append(action)
    return out, problems


def _compile_action(doc: Document, prefix: str, name: str, raw: Any, default_publish_at: Any,
                    config: Config, renderer: Renderer, context: dict[str, Any],
                    content_dir: Path) -> tuple[DesiredAction | None, list[Diagnostic]]:
    loc = ("actions", name)
    where = doc.locate(loc, key=True)
    if not _NAME.match(name):
        return None, [Diagnostic(f"action name {name!r} may hold only letters, digits, '_', '.', '-'", where)]
    if not isinstance(raw, dict):
        return None, [Diagnostic(f"action {name!r} must be a mapping with a 'type'", doc.locate(loc))]
    type_name = raw.get("type")
    endpoint = catalog.BY_TYPE.get(type_name) if isinstance(type_name, str) else None
    if endpoint is None:
        close = difflib.get_close_matches(str(type_name), catalog.BY_TYPE, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "see docs/manifest-reference.md"
        what = "missing 'type'" if type_name is None else f"unknown action type {type_name!r}"
        return None, [Diagnostic(what, doc.locate(loc + ("type",)), hint)]

    problems: list[Diagnostic] = []
    identity_name = raw.get("identity")
    identity = config.identities.get(identity_name) if isinstance(identity_name, str) else None
    if identity_name is None:
        problems.append(Diagnostic(f"missing required field 'identity' for {endpoint.type}", where))
    elif identity is None:
        known = ", ".join(sorted(config.identities)) or "none defined"
        problems.append(Diagnostic(f"unknown identity {identity_name!r} (pipeline.yaml has: {known})",
                                   doc.locate(loc + ("identity",))))
    elif identity.network != endpoint.network:
        problems.append(Diagnostic(
            f"identity {identity_name!r} is a {identity.network} account; "
            f"{endpoint.type} needs a {endpoint.network} one", doc.locate(loc + ("identity",))))
    rendered: dict[str, Any] = {}
    failed: set[str] = set()  # fields whose template failed: already reported
    for key, value in raw.items():
        if key in catalog.ACTION_META_KEYS:
            rendered[key] = value
            continue
        try:
            rendered[key] = renderer.render_value(value, context)
        except RenderError as exc:
            problems.append(render_diagnostic(exc, doc, loc + (key,)))
            rendered[key], failed = value, failed | {key}
    if "publish_at" not in rendered and default_publish_at is not None:
        rendered["publish_at"] = default_publish_at
    try:
        model = action_model(endpoint.type).model_validate(rendered)
    except ValidationError as exc:
        allowed = ("identity", "publish_at", "deleted", *endpoint.by_name)
        errors = [e for e in exc.errors(include_url=False)
                  if e["loc"][:1] != ("identity",) and not (e["loc"] and e["loc"][0] in failed)]
        problems.extend(diagnostics_from(errors, doc, loc, what=endpoint.type, allowed=allowed))
        return None, problems
    publish_at, problem = _aware(model.publish_at, config, doc,  # type: ignore[attr-defined]
                                 loc + ("publish_at",) if "publish_at" in raw else ("publish_at",))
    if problem:
        problems.append(problem)
    for group in endpoint.one_of:
        if not any(getattr(model, f) for f in group):  # empty counts as not given
            problems.append(Diagnostic(f"{endpoint.type} needs at least one of: {', '.join(group)}", where))
    for group in endpoint.exclusive:
        given = [f for f in group if getattr(model, f)]
        if len(given) > 1:
            problems.append(Diagnostic(
                f"{endpoint.type} takes {' or '.join(group)}, not both", doc.locate(loc + (given[-1],))))
    deleted = bool(getattr(model, "deleted", False))
    if deleted and not endpoint.deletable:
        can = ", ".join(e.type for e in catalog.ENDPOINTS if e.deletable)
        problems.append(Diagnostic(
            f"{endpoint.type} cannot be deleted: OneAll's Update API deletes only {can}",
            doc.locate(loc + ("deleted",)), "remove 'deleted', and delete it by hand on the network"))
    if problems or identity is None:
        return None, problems

    media = _MediaResolver(content_dir, config.media_base_url, doc, loc)
    request, refs = _request(model, endpoint, doc, loc, prefix, media)
    if media.problems:
        return None, media.problems
    if secrets_active():
        leaks = [Diagnostic(
            f"{field!r} holds a secret value after rendering; a secret configures, it is never "
            "sent in a post", doc.locate(loc + ((field,) if field in raw else ())))
            for field, value in request.items() if contains_secret(value)]
        if leaks:
            return None, leaks
    address = f"{prefix}/{name}"
    return DesiredAction(
        address=address, type=endpoint.type, identity=model.identity,  # type: ignore[attr-defined]
        token=identity.token, request=request, refs=tuple(refs),
        publish_at=publish_at,
        location=where, digest=request_digest(endpoint.type, identity.token, request, prefix),
        deleted=deleted,
    ), []


class _MediaResolver:
    """Turns ``file:`` paths into URLs, collecting problems at the lines that name them."""

    def __init__(self, content_dir: Path, base_url: str | None, doc: Document,
                 loc: tuple[Any, ...]) -> None:
        self.content_dir, self.base_url, self.doc, self.loc = content_dir, base_url, doc, loc
        self.problems: list[Diagnostic] = []

    def url(self, relative: str, medium: str, where: tuple[Any, ...]) -> str | None:
        try:
            return media_url(self.content_dir, relative, medium, self.base_url)
        except MediaError as exc:
            self.problems.append(Diagnostic(str(exc), self.doc.locate(self.loc + where)))
            return None


def _request(model: BaseModel, endpoint: catalog.Endpoint, doc: Document, loc: tuple[Any, ...],
             prefix: str, media: _MediaResolver) -> tuple[dict[str, Any], list[RefUse]]:
    """The request fields: references resolved to full addresses, files to URLs."""
    request: dict[str, Any] = {}
    refs: list[RefUse] = []
    primary = _PRIMARY_MEDIA[endpoint.type]
    if primary and getattr(model, "file", None) is not None:
        spec = endpoint.by_name[primary]
        request[primary] = media.url(model.file, spec.media or "", ("file",))  # type: ignore[attr-defined]

    def resolve(value: Ref, where: tuple[Any, ...], field: str) -> dict[str, str]:
        target = value.ref if "/" in value.ref else f"{prefix}/{value.ref}"
        refs.append(RefUse(field, target, doc.locate(loc + where)))
        return {"ref": target}

    for spec in endpoint.fields:
        name = spec.name
        value = getattr(model, name)
        if value is None:
            continue
        if spec.kind is Kind.ID_LIST:
            value = [resolve(v, (name, i), name) if isinstance(v, Ref) else v for i, v in enumerate(value)]
        elif isinstance(value, Ref):
            value = resolve(value, (name,), name)
        elif isinstance(value, MediaFile):
            value = media.url(value.file, spec.media or "", (name, "file"))
        request[name] = value
    return request, refs


_PRIMARY_MEDIA = {e.type: e.primary_media for e in catalog.ENDPOINTS}


def _aware(when: datetime | None, config: Config, doc: Document,
           loc: tuple[Any, ...]) -> tuple[datetime | None, Diagnostic | None]:
    """A publish time with its zone: its own offset, or pipeline.yaml's ``timezone``."""
    if when is None or when.tzinfo is not None:
        return when, None
    if config.timezone is None:
        return None, Diagnostic("publish_at has no offset (e.g. +01:00) and pipeline.yaml sets no "
                                "timezone to read it in", doc.locate(loc))
    return when.replace(tzinfo=ZoneInfo(config.timezone)), None
