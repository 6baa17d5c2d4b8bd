"""The benchmark's content repositories: generated, recorded as published, changed.

A repository of N manifests is what an agency's year looks like: realistic templates,
includes, references within and across files, ten identities on five networks, every
action recorded as published exactly as an apply records it (ids, times, the request
as sent). The incremental change a pull request brings is one new manifest and one
edited one (``change``), different on every call so that no cache already holds it.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

IDENTITIES = [  # ten accounts on five networks
    ("acme-twitter", "twitter"), ("acme-support-twitter", "twitter"), ("acme-dev-twitter", "twitter"),
    ("acme-facebook", "facebook"), ("acme-fr-facebook", "facebook"), ("acme-linkedin", "linkedin"),
    ("acme-cto-linkedin", "linkedin"), ("acme-pinterest", "pinterest"), ("acme-youtube", "youtube"),
    ("acme-edu-youtube", "youtube"),
]
TWITTERS = [n for n, net in IDENTITIES if net == "twitter"]
FACEBOOKS = [n for n, net in IDENTITIES if net == "facebook"]
#: The manifest that every incremental change edits. It is published by a real apply
#: (through the CLI and the embedded sandbox) rather than written into the state, so that
#: the sandbox knows the post and an apply can edit it.
EDITED = Path("content/posts/2026/01/p00000.yaml")
EDITED_ADDRESSES = "posts/2026/01/p00000/"  # its actions' addresses start so
NEW_DIR = Path("content/posts/new")


def token(i: int) -> str:
    return f"{i:08x}-1749-4cc1-988f-d6963f3b1baa"


def config(identities: Iterable[tuple[str, str]] = IDENTITIES, extra: str = "") -> str:
    lines = ["site: sandbox", "media_base_url: https://acme.github.io/content", "identities:"]
    for i, (name, network) in enumerate(identities):
        lines += [f"  {name}:", f"    network: {network}", f"    token: {token(i)}"]
    lines += ["vars:", "  brand: Acme", "  links:", "    shop: https://acme.example/shop",
              "    blog: https://acme.example/blog", "  hashtags: '#acme #launch'"]
    return "\n".join(lines) + "\n" + extra


MANIFEST = """# yaml-language-server: $schema=../../schemas/manifest.schema.json
vars:
  product: {product}
  slug: {slug}
actions:
  hero:
    type: twitter.picture
    identity: {twitter}
    url: https://cdn.acme.example/{slug}/hero.png
    description: The {{{{ product }}}} up close
  tweet:
    type: twitter.post
    identity: {twitter}
    message: "{{{{ product }}}} is here! {{{{ links.shop }}}}/{{{{ slug }}}} {{% include 'signature.j2' %}}"
    attachments:
      - ref: hero
  page:
    type: facebook.page.post
    identity: {facebook}
    page: "1083749827364{n5}"
    message: |
      {{{{ product }}}}: {{{{ links.blog }}}}/{{{{ slug }}}}
      {{% include 'footer.j2' %}}
    link: "{{{{ links.shop }}}}/{{{{ slug }}}}"
{cross}"""

CROSS = """  recap:
    type: twitter.post
    identity: {twitter}
    message: "Still loving the {{{{ product }}}}? Week {week} recap."
    attachments:
      - ref: {previous}/hero
"""
FOOTER = "      {% include 'footer.j2' %}\n"


def manifest(i: int, product: str | None = None, slug: str | None = None) -> str:
    twitter = TWITTERS[i % len(TWITTERS)]
    cross = ""
    if i % 5 == 4:
        prev = i - 1
        prev_folder = f"posts/{2026 + prev // 3650}/{prev % 12 + 1:02d}"
        if TWITTERS[prev % len(TWITTERS)] == twitter:
            cross = CROSS.format(twitter=twitter, week=i // 7, previous=f"{prev_folder}/p{prev:05d}")
    return MANIFEST.format(product=product or f"Widget {i}", slug=slug or f"widget-{i}", twitter=twitter,
                           facebook=FACEBOOKS[i % len(FACEBOOKS)], n5=f"{i % 100:02d}", cross=cross)


def generate(root: Path, count: int, extra_config: str = "") -> None:
    """A content repository of ``count`` manifests, every fifth one referring to another."""
    (root / "content/templates").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(config(extra=extra_config))
    (root / "content/templates/signature.j2").write_text("{{ hashtags }} #{{ brand }}\n")
    (root / "content/templates/footer.j2").write_text("-- the {{ brand }} team, {{ links.shop }}\n")
    made: set[Path] = set()
    for i in range(count):
        folder = root / "content/posts" / f"{2026 + i // 3650}" / f"{i % 12 + 1:02d}"
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        (folder / f"p{i:05d}.yaml").write_text(manifest(i))


def publish_everything(root: Path, *, skip: str | None = None) -> Path:
    """Record every action of ``root`` (but those whose address starts with ``skip``) as
    published in its sandbox state, as a year of applies would have: ids, times and the
    request as sent, so that an edit plans as an edit. Returns the state file written,
    which is the one a CLI run with no ``ONEALL_*`` variables reads."""
    from pipeline import app
    from pipeline.model.state import Record

    loaded = app.load(root, {})
    assert loaded.site.is_sandbox
    store = loaded.store()
    state = store.load()
    when = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    for address, action in loaded.graph.actions.items():
        if skip is not None and address.startswith(skip):
            continue
        state.resources[address] = Record(
            type=action.type, identity=action.identity, digest=action.digest, status="published",
            result={f"{action.endpoint.object}_id": str(abs(hash(address)))}, request=action.request,
            published_at=when, attempted_at=when)
    store.save(state)
    return store.path


def recorded(state_file: Path) -> int:
    """How many addresses a state file records (its journal, if any, aside)."""
    return len(json.loads(state_file.read_bytes())["resources"])


def change(root: Path, run: int, new_name: str) -> None:
    """The change of one pull request: ``content/posts/new/<new_name>.yaml`` written (a
    manifest of three actions), and the Facebook post of ``EDITED`` edited (OneAll edits
    it in place: an ``update``). Both texts carry ``run``, so they differ every time."""
    (root / NEW_DIR).mkdir(parents=True, exist_ok=True)
    (root / NEW_DIR / f"{new_name}.yaml").write_text(
        manifest(0, product=f"New widget {run}", slug=f"new-widget-{run}"))
    original = manifest(0)
    assert FOOTER in original
    (root / EDITED).write_text(original.replace(FOOTER, f"{FOOTER}      Updated in run {run}.\n"))


def csafe_parse(root: Path) -> None:
    """The baseline: PyYAML's C loader merely parsing every manifest."""
    import yaml

    for path in sorted((root / "content").rglob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


if __name__ == "__main__":  # python bench/repository.py ROOT COUNT: generate, publish all but EDITED
    generate(Path(sys.argv[1]), int(sys.argv[2]))
    print(publish_everything(Path(sys.argv[1]), skip=EDITED_ADDRESSES))
