"""Artifacts generated from the models and the catalogue: JSON Schemas and the reference page.

They are committed, and a test fails when they drift from the code (as dbt does), so
editors and readers always see what the code really accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline import catalog
from pipeline.files import dumps
from pipeline.catalog import Endpoint, Kind
from pipeline.model.config import Config
from pipeline.model.manifest import manifest_model

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

#: Where each artifact goes, relative to the output folder.
MANIFEST_SCHEMA = Path("schemas/manifest.schema.json")
CONFIG_SCHEMA = Path("schemas/config.schema.json")
REFERENCE_PAGE = Path("docs/manifest-reference.md")


def _close_patterns(node: Any) -> None:
    """Pydantic writes a constrained dict key as patternProperties alone, which lets any
    other key through; the models refuse those keys, so the schema must too."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _close_patterns(value)


_SECRET_OR_UUID = r"^(\$\{secret:[^}]+\}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"


def _no_false_positives(node: Any) -> None:
    """What the pipeline checks after rendering or reading, an editor must not refuse
    before: a template longer than a limit may render shorter (the limit is in the
    description), a publish_at may be a local time read in pipeline.yaml's timezone, and
    an identity's token may be a ``${secret:NAME}``."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "maxLength" in node:
            limit = node.pop("maxLength")
            node["description"] = (node.get("description", "") + f" At most {limit} characters after rendering.").strip()
        if node.get("format") == "date-time":
            node.pop("format")
        if str(node.get("pattern", "")).startswith("^[0-9a-fA-F]{8}-"):
            node["pattern"] = _SECRET_OR_UUID
        for value in node.values():
            _no_false_positives(value)
    elif isinstance(node, list):
        for value in node:
            _no_false_positives(value)


def _draft07(model: Any, title: str) -> dict[str, Any]:
    # Editors' YAML support speaks draft-07: definitions, not $defs.
    schema = model.model_json_schema(ref_template="#/definitions/{model}")
    _close_patterns(schema)
    _no_false_positives(schema)
    definitions = schema.pop("$defs", None)
    out = {"$schema": DRAFT_07, "title": title, **schema}
    if definitions:
        out["definitions"] = definitions
    return out


def manifest_schema() -> dict[str, Any]:
    schema = _draft07(manifest_model(), "pipeline manifest")
    for action in schema["properties"]["actions"].get("patternProperties", {}).values():
        _by_type(action)
    return schema


def _by_type(action: dict[str, Any]) -> None:
    """An action's ``oneOf`` of every type becomes ``if type is X then X's schema``: an
    editor then reports a bad field at that field, not "matches none of 20 schemas"."""
    mapping = action.pop("discriminator", {}).get("mapping")
    choices = action.pop("oneOf", None)
    if not mapping or choices is None:
        action["oneOf"] = choices  # not the shape this expects: leave it as it was
        return
    action.update({
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": sorted(mapping), "description": "The action's type: the endpoint."}},
        "allOf": [{"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                   "then": {"$ref": ref}} for name, ref in sorted(mapping.items())],
    })


def config_schema() -> dict[str, Any]:
    return _draft07(Config, "pipeline.yaml")


def artifacts() -> dict[Path, str]:
    """Every generated file, by its path, with its content."""
    return {
        MANIFEST_SCHEMA: dumps(manifest_schema()),
        CONFIG_SCHEMA: dumps(config_schema()),
        REFERENCE_PAGE: reference_page(),
    }


def stale(root: Path) -> list[Path]:
    """The generated files under ``root`` that differ from what the code generates."""
    return [p for p, text in artifacts().items()
            if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text]


def write(root: Path) -> list[Path]:
    """Write every generated file under ``root``; returns those that changed."""
    changed = stale(root)
    for path, text in artifacts().items():
        if path in changed:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
    return changed


# ---------------------------------------------------------------- the reference page

_TEXT_EXAMPLES = {
    "message": "The Acme Rocket is out!", "title": "Acme Rocket: launch day",
    "description": "Lift-off at dawn.", "name": "Acme Rocket launch",
    "location": "Cape Canaveral", "section_type": "multiplePlaylists",
}
_URL_EXAMPLES = {
    "picture": "https://cdn.acme.example/rocket.png", "video": "https://cdn.acme.example/rocket.mp4",
    "link": "https://acme.example/rocket", "callback_url": "https://hooks.acme.example/oneall",
}


def example_value(spec: catalog.Field) -> Any:
    """A plausible value for ``spec``, as an author would write it."""
    if spec.kind is Kind.TEXT:
        return _TEXT_EXAMPLES.get(spec.name, "Acme")
    if spec.kind is Kind.URL:
        return _URL_EXAMPLES[spec.media or spec.name] if (spec.media or spec.name) in _URL_EXAMPLES \
            else "https://acme.example/"
    if spec.kind is Kind.BOOL:
        return True
    if spec.kind is Kind.ENUM:
        return spec.choices[0]
    if spec.kind is Kind.INT:
        return 0
    if spec.accepts:
        ref = {"ref": spec.accepts[0].split(".")[-1]}
        return [ref] if spec.kind is Kind.ID_LIST else ref
    return "108374982736451"


def example_action(endpoint: Endpoint) -> dict[str, Any]:
    """An action of ``endpoint`` with every field filled in, but for those another field
    excludes (a Facebook post's link, when it has attachments)."""
    excluded = {name for group in endpoint.exclusive for name in group[:-1]}
    action: dict[str, Any] = {"type": endpoint.type, "identity": f"acme-{endpoint.network}"}
    for spec in endpoint.fields:
        if spec.name not in excluded:
            action[spec.name] = example_value(spec)
    return action


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ref: %s}" % value["ref"]
    text = str(value)
    plain = (text and not text.isdigit() and ": " not in text and " #" not in text
             and text[0] not in "!&*{}[]|>'\"%@`#,?:-")
    return text if plain else json.dumps(text)


def example_yaml(endpoint: Endpoint) -> str:
    """The example action of ``endpoint`` inside a manifest, as YAML."""
    lines = ["actions:", f"  {endpoint.type.split('.')[-1]}:"]
    for key, value in example_action(endpoint).items():
        shown = "[" + ", ".join(map(_scalar, value)) + "]" if isinstance(value, list) else _scalar(value)
        lines.append(f"    {key}: {shown}")
    return "\n".join(lines) + "\n"


def _limits(spec: catalog.Field) -> str:
    parts = []
    if spec.max_length:
        parts.append(f"at most {spec.max_length} characters after rendering")
    if spec.max_items:
        parts.append(f"at most {spec.max_items} items")
    if spec.choices:
        parts.append("one of " + ", ".join(f"`{c}`" for c in spec.choices))
    if spec.kind is Kind.URL:
        parts.append("absolute http(s) URL")
    if spec.media:
        parts.append(f"or `{{file: PATH}}` ({spec.media})")
    if spec.accepts:
        parts.append("or `{ref: …}` to " + ", ".join(f"`{t}`" for t in spec.accepts)
                     + (" of the same identity" if spec.same_identity else ""))
    if spec.in_path:
        parts.append("sent in the path")
    return "; ".join(parts)


def _editable(endpoint: Endpoint) -> str:
    if endpoint.update is None or not endpoint.editable:
        return "no"
    return ", ".join(f"`{name}`" for name in endpoint.update.editable)


def reference_page() -> str:
    """``docs/manifest-reference.md``: every action type, generated from the catalogue."""
    lines = [
        "# Manifest reference",
        "",
        "<!-- Generated from pipeline/catalog.py by `pipeline schema`; do not edit by hand. -->",
        "",
        "Every action has a `type` (below), an `identity` (a name from `pipeline.yaml` of the",
        "type's network) and optionally `publish_at` and `deleted: true` (delete what was",
        "published, for the types OneAll can delete). Its other keys are the endpoint's",
        "request fields. Every string is a Jinja2 template; limits apply to the rendered text.",
        "A field marked *contract* in the source column follows this project's assumption",
        "where OneAll documents nothing (see oneall-api.md).",
        "",
        "| type | endpoint | edit in place | delete | source |",
        "|---|---|---|---|---|",
    ]
    for e in catalog.ENDPOINTS:
        lines.append(f"| [`{e.type}`](#{e.type.replace('.', '')}) | `{e.path}` | {_editable(e)} | "
                     f"{'yes' if e.deletable else 'no'} | {e.source} |")
    for e in catalog.ENDPOINTS:
        lines += ["", f"## {e.type}", "", e.summary, "",
                  f"`POST /push/identities/<identity_token>/{e.path}`, body node `{e.node_name}`"
                  + (" (processed asynchronously)" if e.asynchronous else "") + f"; source: {e.source}.",
                  "", "| field | on the wire | required | limits and references | meaning |",
                  "|---|---|---|---|---|"]
        for f in e.fields:
            wire = "path" if f.in_path else f"`{e.node_name}.{f.wire_name}`"
            required = "yes" if f.required else ""
            lines.append(f"| `{f.name}` | {wire} | {required} | {_limits(f)} | {f.doc} |")
        if e.primary_media:
            lines += ["", f"Instead of `{e.primary_media}`, `file: PATH` names a file under `content/`, "
                      "published as `<media_base_url>/PATH`."]
        for group in e.one_of:
            lines += ["", "At least one of " + ", ".join(f"`{g}`" for g in group) + " is required."]
        for group in e.exclusive:
            lines += ["", "At most one of " + ", ".join(f"`{g}`" for g in group) + " may be given."]
        if e.update is not None:
            lines += ["", "Update API: `/update/identities/<identity_token>/" + e.update.path + "`. "
                      + (f"Edit in place (PUT) changes {_editable(e)}; a change to any other field "
                         "is `changed` (publish anew with `--replace`). " if e.editable else
                         "It cannot be edited: a changed rendering is `changed`. ")
                      + ("Delete (DELETE) with `deleted: true`." if e.deletable else "")]
        else:
            lines += ["", "OneAll can neither edit nor delete it: a changed rendering is `changed`, and "
                      "`--replace` leaves the old post online."]
        lines += ["", "Returns: " + ", ".join(f"`{r}`" for r in e.results)
                  + f". A reference to this action resolves to its `{e.id_field}`.",
                  "", "```yaml", example_yaml(e).rstrip(),
                  "```"]
    return "\n".join(lines) + "\n"
