"""The tools around the pipeline: generated schemas and the embedded sandbox's server."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli.base import EXIT_ERROR, UserError, cli, echo, fail, start


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where schemas/ and docs/ go (default: the project folder, else this folder).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a generated file is stale.")
@click.pass_context
def schema(ctx: click.Context, out: Path | None, check: bool) -> None:
    """Generate the JSON Schemas (schemas/) and the manifest reference (docs/)."""
    from pipeline.report import schema as generate
    from pipeline.load.project import find_root

    if out is None:
        try:
            out = find_root(start(ctx))
        except UserError:
            out = Path.cwd()
    if check:
        stale = generate.stale(out)
        for path in stale:
            echo(f"stale: {path} (run `pipeline schema`)", err=True)
        if stale:
            fail(EXIT_ERROR)
        echo("Generated files are up to date.")
        return
    for path in generate.write(out):
        echo(f"wrote {path}")


@cli.group()
def sandbox() -> None:
    """The embedded OneAll sandbox."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="0 picks a free port.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where published objects are kept (default: .pipeline/sandbox/serve.jsonl).")
@click.option("--latency", type=click.FloatRange(0), default=0.0, help="Seconds from each request to its answer (the sandbox's own work included).")
@click.option("--rate-429", type=click.FloatRange(0, 1), default=0.0, help="Share answered 429.")
@click.option("--rate-500", type=click.FloatRange(0, 1), default=0.0, help="Share answered 500.")
@click.option("--rate-503", type=click.FloatRange(0, 1), default=0.0, help="Share answered 503.")
@click.option("--ghost", type=click.FloatRange(0, 1), default=0.0,
              help="Share published but answered too late (an unknown outcome).")
@click.pass_context
def sandbox_serve(ctx: click.Context, host: str, port: int, db: Path | None, latency: float,
                  rate_429: float, rate_500: float, rate_503: float, ghost: float) -> None:
    """Serve the sandbox until interrupted; identities come from pipeline.yaml if there is one."""
    from pipeline.apply.site import project_sandbox
    from pipeline.load.project import find_root, load_project
    from pipeline.oneall.sandbox import Faults, SandboxServer

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UserError("the sandbox serves on loopback only (127.0.0.1, localhost or ::1)")
    public = os.environ.get("ONEALL_PUBLIC_KEY") or "sandbox-public"
    private = os.environ.get("ONEALL_PRIVATE_KEY") or "sandbox-private"
    try:
        project = load_project(find_root(start(ctx)))
    except UserError:
        project = None
    db = db or (project.root if project else Path.cwd()) / ".pipeline" / "sandbox" / "serve.jsonl"
    faults = Faults(latency=latency, rate_429=rate_429, rate_500=rate_500, rate_503=rate_503, ghost=ghost)
    box = project_sandbox(project, public, private, db, faults)
    server = SandboxServer(box, host, port)
    echo(f"OneAll sandbox on {server.url} ({len(box.identities)} identities, db {db})")
    echo(f"  export ONEALL_API_BASE={server.url} ONEALL_PUBLIC_KEY={public}")
    echo("  and ONEALL_PRIVATE_KEY as set in this shell (default: sandbox-private)")
    try:
        server.httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()



@sandbox.command("elsewhere")
@click.argument("object_id", metavar="ID")
@click.option("--delete", "delete", is_flag=True, help="Delete the post, as its owner would in the network's app.")
@click.option("--set", "changes", multiple=True, metavar="FIELD=VALUE",
              help="Edit one field of the post (its name on the wire, e.g. message=…).")
@click.option("--type", "type_name", default=None, help="The post's type, when two share the id.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The sandbox's database (default: the embedded sandbox's, under .pipeline/sandbox/).")
@click.pass_context
def sandbox_elsewhere(ctx: click.Context, object_id: str, delete: bool, changes: tuple[str, ...],
                      type_name: str | None, db: Path | None) -> None:
    """Change a post in the sandbox outside the pipeline, to see `pipeline refresh` find it."""
    from pipeline.apply.site import SANDBOX_DIR, project_sandbox
    from pipeline.load.project import find_root, load_project

    if delete == bool(changes):
        raise UserError("give either --delete or --set FIELD=VALUE")
    fields = {}
    for change in changes:
        name, sep, value = change.partition("=")
        if not sep or not name:
            raise UserError(f"--set {change!r}: write FIELD=VALUE")
        fields[name] = value
    project = load_project(find_root(start(ctx)))
    box = project_sandbox(project, "sandbox-public", "sandbox-private", db or project.root / SANDBOX_DIR / "db.jsonl")
    try:
        if delete:
            box.delete_elsewhere(object_id, type_name=type_name)
        else:
            box.edit_elsewhere(object_id, fields, type_name=type_name)
    except (KeyError, ValueError) as exc:
        raise UserError(f"{object_id}: {exc.args[0] if exc.args else exc}") from None
    echo(f"{'deleted' if delete else 'edited'} {object_id} in the sandbox, as if by hand")
