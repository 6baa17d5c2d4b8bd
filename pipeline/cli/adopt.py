"""Adopting posts made elsewhere, and finding drift: import, refresh. Nothing is sent."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from pipeline.cli.base import EXIT_PENDING, UserError, announce, cli, echo, fail, start


@cli.command("import")
@click.argument("address", required=False)
@click.argument("post_id", metavar="[ID]", required=False)
@click.option("--generate", "identity", metavar="IDENTITY", default=None,
              help="Write a manifest for every post of this account not yet recorded, and adopt each.")
@click.option("--since", metavar="DATE", default=None, help="With --generate: only posts from this date on.")
@click.option("--out", metavar="DIR", default="imported", show_default=True,
              help="With --generate: the folder under content/ the manifests go to.")
@click.pass_context
def import_(ctx: click.Context, address: str | None, post_id: str | None, identity: str | None,
            since: str | None, out: str) -> None:
    """Adopt a post made elsewhere: record post ID as what ADDRESS published.

    The post is read back through the Pull API and recorded as published, with what it
    holds; nothing is sent. If ADDRESS's manifest renders differently, the next plan
    shows it old -> new.
    """
    from pipeline import app

    if identity is not None:
        if address or post_id:
            raise UserError("give either ADDRESS ID, or --generate IDENTITY")
        when = _date(since) if since else None
        workspace = app.open_workspace(start(ctx))
        announce(workspace.site)
        adopted = app.import_generate(workspace, identity, since=when, out=out)
        for done in adopted:
            echo(f"imported  {done}")
        echo(f"Imported {len(adopted)} posts of {identity}; `pipeline plan` shows them unchanged.")
        return
    if not (address and post_id):
        raise UserError("give ADDRESS ID (the address in a manifest, the post's id), or --generate IDENTITY")
    loaded = app.load(start(ctx))
    announce(loaded.site)
    adopted_one = app.import_one(loaded, address, post_id)
    ids = ", ".join(f"{k}={v}" for k, v in sorted(adopted_one.result.items()))
    echo(f"imported  {address}: {ids}")
    if adopted_one.how == "ids":
        echo("  OneAll lists no such post, so what it holds could not be read back: adopted by its id alone.")
    elif adopted_one.differs:
        echo("  Its manifest renders differently from what is online: `pipeline plan` shows old -> new.")


def _date(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--since {text!r}: a date such as 2026-01-31") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@cli.command()
@click.option("--write", is_flag=True, help="Record what was deleted or edited elsewhere in the state.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text",
              help="text for a terminal, markdown for an issue.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when something was deleted or edited elsewhere, 0 when not, 1 on error.")
@click.option("--show-ok", is_flag=True, help="List the posts found as recorded too.")
@click.pass_context
def refresh(ctx: click.Context, write: bool, fmt: str, detailed_exitcode: bool, show_ok: bool) -> None:
    """Read back every recorded post and report drift: deleted or edited elsewhere.

    Nothing is sent, and nothing is recorded unless --write: then a post deleted
    elsewhere is published again only with --replace, and one edited elsewhere shows in
    the plan, online -> manifest.
    """
    from pipeline import app
    from pipeline.report import drift

    workspace = app.open_workspace(start(ctx))
    announce(workspace.site)
    found = app.refresh(workspace, write=write)
    records = app.show(workspace).resources
    if fmt == "markdown":
        echo(drift.drift_markdown(found, records), nl=False)
    else:
        echo(drift.drift_text(found, records, show_ok=show_ok), nl=False)
    if detailed_exitcode and any(d.kind in ("deleted", "edited") for d in found):
        fail(EXIT_PENDING)
