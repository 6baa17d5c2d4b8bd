"""Looking before posting: the visual preview and the content calendar."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.base import announce, cli, echo, start


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder to write the site to, replaced whole (default: .pipeline/preview/).")
@click.option("--changed-since", metavar="REF", default=None,
              help="Show the actions of files changed since this git ref first.")
@click.pass_context
def preview(ctx: click.Context, out: Path | None, changed_since: str | None) -> None:
    """Write a static HTML preview: each action as its network shows it, and the calendar.

    Open index.html in a browser: the pages need no server, run no script and load
    nothing from the network.
    """
    from pipeline import app

    workspace = app.open_workspace(start(ctx))
    previewed = app.preview_command(workspace, out=out, changed_since=changed_since)
    announce(workspace.site)
    echo(f"Wrote the preview of {len(previewed.plan.changes)} actions ({previewed.files} files) "
         f"to {previewed.out}: open {previewed.index}")


@cli.command()
@click.option("--ics", "ics", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The iCalendar file to write.")
@click.pass_context
def calendar(ctx: click.Context, ics: Path) -> None:
    """Write the content calendar (scheduled, pending and published actions) as iCalendar."""
    from pipeline import app

    workspace = app.open_workspace(start(ctx))
    written = app.calendar_command(workspace, out=ics)
    announce(workspace.site)
    echo(f"Wrote {written.events} events to {written.path}.")
