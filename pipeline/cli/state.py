"""The state commands: show, forget, accept, resolve, mv, unlock. None sends anything."""

from __future__ import annotations

import sys

import click

from pipeline.cli.base import UserError, announce, cli, echo, start, yes_option


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Versioned JSON for programs.")
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Show what has been published: address, type, ids, URL, when."""
    from pipeline import app
    from pipeline.report import json, text

    workspace = app.open_workspace(start(ctx))
    announce(workspace.site)
    state = app.show(workspace)
    echo(json.state_json(state) if as_json else text.state_text(state), nl=False)


@cli.group()
def state() -> None:
    """Operate on the state file."""


@state.command("forget")
@click.argument("addresses", nargs=-1, required=True)
@yes_option
@click.pass_context
def state_forget(ctx: click.Context, addresses: tuple[str, ...], yes: bool) -> None:
    """Drop ADDRESSES from the state; what was published stays online.

    The next apply publishes a forgotten address again if a manifest still defines it.
    """
    from pipeline import app

    workspace = app.open_workspace(start(ctx))
    announce(workspace.site)
    published = app.published_among(workspace, addresses)
    if published and not yes:
        for address in published:
            echo(f"{address} is published: once forgotten, the next apply publishes it again "
                  "(a second post) if a manifest still defines it", err=True)
        if not sys.stdin.isatty() or not click.confirm("Forget it anyway?", default=False):
            raise UserError("nothing forgotten: confirm, or pass --yes")
    for address in app.forget(workspace, addresses):
        echo(f"forgot {address}")


@state.command("accept")
@click.argument("addresses", nargs=-1, required=True)
@click.pass_context
def state_accept(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """Record how ADDRESSES render now as what is online; nothing is sent.

    For a post whose manifest changed in a way not worth a new post (a typo fix on a type
    OneAll cannot edit): the plan stops showing it as changed.
    """
    from pipeline import app

    loaded = app.load(start(ctx))
    announce(loaded.site)
    for address in app.accept(loaded, addresses):
        echo(f"accepted {address}: its current rendering is recorded as what is online")


@state.command("resolve")
@click.argument("address")
@click.option("--published", "published_id", metavar="ID", help="It was published, with this id.")
@click.option("--location", metavar="URL", help="With --published: the post's URL.")
@click.option("--not-published", is_flag=True, help="It was not published: publish it again.")
@click.pass_context
def state_resolve(ctx: click.Context, address: str, published_id: str | None, location: str | None,
                  not_published: bool) -> None:
    """Settle ADDRESS, whose outcome is unknown, by your own word."""
    from pipeline import app

    if bool(published_id) == not_published:
        raise UserError("give exactly one of --published ID and --not-published")
    workspace = app.open_workspace(start(ctx))
    announce(workspace.site)
    app.resolve(workspace, address, published_id=published_id, location=location)
    echo(f"{address}: published {published_id}" if published_id
          else f"{address}: not published; the next apply publishes it")


@state.command("mv")
@click.argument("source")
@click.argument("target")
@click.pass_context
def state_mv(ctx: click.Context, source: str, target: str) -> None:
    """Record the post of SOURCE under the address TARGET; nothing is sent."""
    from pipeline import app

    workspace = app.open_workspace(start(ctx))
    announce(workspace.site)
    app.move(workspace, source, target)
    echo(f"moved {source} -> {target}")


@state.command("unlock")
@click.argument("lock_id")
@click.pass_context
def state_unlock(ctx: click.Context, lock_id: str) -> None:
    """Break a lock left by a process that died."""
    from pipeline import app

    app.unlock(app.open_workspace(start(ctx)), lock_id)
    echo(f"unlocked {lock_id}")

