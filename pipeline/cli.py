"""The ``pipeline`` command: thin click adapters over ``app``, and one error handler.

Only click is imported at start-up, so ``pipeline --help`` stays instant; each command
imports the rest when it runs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from pipeline import __version__
from pipeline.errors import PipelineError, UserError
from pipeline.redact import contains_secret, redact

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_BUG = 0, 1, 2, 3


class _Group(click.Group):
    """Turns a known error into its message and exit 1, anything else into a crash log."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            for diagnostic in exc.diagnostics:
                _echo(click.style("error: ", fg="red") + str(diagnostic), err=True)
            from pipeline.report import github  # each error also becomes an annotation on its line

            if github.active():
                for diagnostic in exc.diagnostics:
                    _echo(github.error_command(diagnostic))
            _fail(EXIT_ERROR)
        except PipelineError as exc:
            _echo(click.style("error: ", fg="red") + str(exc), err=True)
            _fail(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception:  # noqa: BLE001 - a bug: keep the traceback, show its file
            log = _crash_log(ctx)
            _echo(f"error: an unexpected error occurred; the traceback is in {log}", err=True)
            _fail(EXIT_BUG)


def _echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` with every registered secret masked: all output passes here."""
    click.echo(redact(message), err=err, nl=nl)


def _fail(code: int) -> NoReturn:
    raise click.exceptions.Exit(code)


def _crash_log(ctx: click.Context) -> Path:
    folder = Path(tempfile.gettempdir()) / "pipeline-logs"
    project = (ctx.obj or {}).get("project")
    if project and (Path(project) / "pipeline.yaml").is_file():
        from pipeline.load.project import private_dir

        folder = private_dir(Path(project)) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    path.write_text(redact(traceback.format_exc()), encoding="utf-8")
    return path


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeline")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder holding pipeline.yaml (default: this folder or a parent).")
@click.pass_context
def cli(ctx: click.Context, project: Path | None) -> None:
    """Publish reviewed YAML manifests to social networks through the OneAll Push API."""
    ctx.obj = {"project": project or Path.cwd()}


def _start(ctx: click.Context) -> Path:
    return Path(ctx.obj["project"])


def _announce(site: Any) -> None:
    if site.is_sandbox:
        _echo(click.style("sandbox: ", fg="cyan", bold=True)
                   + "no OneAll site is configured, so this run uses the embedded sandbox; "
                     "nothing is published for real.", err=True)


@cli.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Load, validate and render every manifest; report every problem."""
    from pipeline import app

    loaded = app.load(_start(ctx))
    _announce(loaded.site)
    _echo(f"OK: {len(loaded.graph.actions)} actions in "
               f"{len(loaded.project.manifest_paths())} manifests are valid.")


# Options that more than one command takes, declared once.
_replace_option = click.option(
    "--replace", "replace", multiple=True, metavar="ADDRESS",
    help="Publish this address anew although it was published before (then delete the old "
         "post, where OneAll can).")
_yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


@cli.command()
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there is something to do, 0 when not, 1 on error.")
@_replace_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              help="text for a terminal, markdown for a pull request, json for programs.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save the plan, to apply exactly it later with `pipeline apply FILE`.")
@click.option("--changed-since", metavar="REF", default=None,
              help="Mark (and list first) the actions of files changed since this git ref.")
@click.option("--show-unchanged", is_flag=True, help="List unchanged actions too.")
@click.pass_context
def plan(ctx: click.Context, detailed_exitcode: bool, replace: tuple[str, ...], fmt: str,
         out: Path | None, changed_since: str | None, show_unchanged: bool) -> None:
    """Show what apply would do, per action."""
    from pipeline import app
    from pipeline.report import github, json, markdown, text

    workspace = app.open_workspace(_start(ctx))
    the_plan = app.plan_command(workspace, replace=frozenset(replace), changed_since=changed_since,
                                out=out, full=fmt == "json" or show_unchanged)
    _announce(workspace.site)
    as_markdown = None  # made once, for the output and the job summary alike
    if fmt == "markdown" or github.summary_path():
        as_markdown = markdown.plan_markdown(the_plan, sandbox=workspace.site.is_sandbox)
    if fmt == "json":
        _echo(json.plan_json(the_plan), nl=False)
    elif fmt == "markdown":
        _echo(as_markdown or "", nl=False)
    else:
        _echo(text.plan_text(the_plan, show_noop=show_unchanged), nl=False)
    if out is not None:
        _echo(f"Saved the plan to {out}: `pipeline apply {out}` carries out exactly it.", err=True)
    if github.summary_path():
        github.append_summary(redact(as_markdown or ""))
    if detailed_exitcode and (the_plan.pending or the_plan.count("unknown") or the_plan.moves):
        _fail(EXIT_PENDING)


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_yes_option
@_replace_option
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Requests in flight at once.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=0.0,
              help="Seconds to wait for another apply to finish.")
@click.pass_context
def apply(ctx: click.Context, planfile: Path | None, yes: bool, replace: tuple[str, ...],
          parallelism: int, lock_timeout: float) -> None:
    """Publish, edit and delete what the plan says, then write the results to the state.

    With PLANFILE (from `pipeline plan --out`), carry out exactly that reviewed plan,
    without asking; it is refused if anything it was made from has changed.
    """
    from pipeline import app
    from pipeline.report import github, text

    if planfile is not None and replace:
        raise UserError("a saved plan is applied as it is: --replace belongs to `pipeline plan`")
    if planfile is None and not yes and not sys.stdin.isatty():
        raise UserError("apply asks for confirmation, but stdin is not a terminal: pass --yes")
    saved = _read_plan(planfile) if planfile is not None else None
    loaded = app.load(_start(ctx))
    _announce(loaded.site)
    tty = sys.stdout.isatty()
    progress: list[Any] = []  # made once the plan is confirmed

    def confirm(the_plan: Any) -> bool:
        _echo(text.plan_text(the_plan), nl=False)
        if saved is None and not yes and not click.confirm("Carry out these changes?", default=False):
            return False
        progress.append(text.Progress(len(the_plan.sending), tty=tty))
        return True

    def on_event(event: Any) -> None:  # called from one thread: the executor's scheduler
        line = text.event_line(event)
        update = progress[0].update(event)
        if line:
            _echo(("\r\033[K" if tty else "") + line)  # on a terminal, over the bar
        if update:
            _echo(update, nl=not tty)

    applied = app.apply(loaded, saved=saved, confirm=confirm, on_event=on_event,
                        parallelism=parallelism, lock_timeout=lock_timeout, replace=frozenset(replace))
    if tty and progress:
        _echo()  # leave the bar's line
    for settled in applied.settled:
        _echo(text.settled_line(settled))
    for source, target in applied.moved:
        _echo(f"moved     {source} -> {target} (nothing sent)")
    if applied.result is None:
        if applied.plan.pending and not applied.moved:
            _echo("Cancelled: nothing was sent.")
            _fail(EXIT_ERROR)
        elif not applied.moved:
            _echo(text.plan_text(applied.plan), nl=False)
        return
    _echo(text.apply_summary(applied.result))
    if github.summary_path():
        github.append_summary(redact("### pipeline apply\n\n" + text.apply_summary(applied.result)))
    if not applied.result.ok:
        _fail(EXIT_ERROR)


def _read_plan(path: Path) -> Any:
    from pydantic import ValidationError

    from pipeline.model.plan import PLAN_FILE

    try:
        return PLAN_FILE.validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"]))
        raise UserError(f"{path}: not a plan saved by `pipeline plan --out` ({where}: {first['msg']})") from None


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Versioned JSON for programs.")
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Show what has been published: address, type, ids, URL, when."""
    from pipeline import app
    from pipeline.report import json, text

    workspace = app.open_workspace(_start(ctx))
    _announce(workspace.site)
    state = app.show(workspace)
    _echo(json.state_json(state) if as_json else text.state_text(state), nl=False)


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
            out = find_root(_start(ctx))
        except UserError:
            out = Path.cwd()
    if check:
        stale = generate.stale(out)
        for path in stale:
            _echo(f"stale: {path} (run `pipeline schema`)", err=True)
        if stale:
            _fail(EXIT_ERROR)
        _echo("Generated files are up to date.")
        return
    for path in generate.write(out):
        _echo(f"wrote {path}")


@cli.group()
def state() -> None:
    """Operate on the state file."""


@state.command("forget")
@click.argument("addresses", nargs=-1, required=True)
@_yes_option
@click.pass_context
def state_forget(ctx: click.Context, addresses: tuple[str, ...], yes: bool) -> None:
    """Drop ADDRESSES from the state; what was published stays online.

    The next apply publishes a forgotten address again if a manifest still defines it.
    """
    from pipeline import app

    workspace = app.open_workspace(_start(ctx))
    _announce(workspace.site)
    published = app.published_among(workspace, addresses)
    if published and not yes:
        for address in published:
            _echo(f"{address} is published: once forgotten, the next apply publishes it again "
                  "(a second post) if a manifest still defines it", err=True)
        if not sys.stdin.isatty() or not click.confirm("Forget it anyway?", default=False):
            raise UserError("nothing forgotten: confirm, or pass --yes")
    for address in app.forget(workspace, addresses):
        _echo(f"forgot {address}")


@state.command("accept")
@click.argument("addresses", nargs=-1, required=True)
@click.pass_context
def state_accept(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """Record how ADDRESSES render now as what is online; nothing is sent.

    For a post whose manifest changed in a way not worth a new post (a typo fix on a type
    OneAll cannot edit): the plan stops showing it as changed.
    """
    from pipeline import app

    loaded = app.load(_start(ctx))
    _announce(loaded.site)
    for address in app.accept(loaded, addresses):
        _echo(f"accepted {address}: its current rendering is recorded as what is online")


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
    workspace = app.open_workspace(_start(ctx))
    _announce(workspace.site)
    app.resolve(workspace, address, published_id=published_id, location=location)
    _echo(f"{address}: published {published_id}" if published_id
          else f"{address}: not published; the next apply publishes it")


@state.command("mv")
@click.argument("source")
@click.argument("target")
@click.pass_context
def state_mv(ctx: click.Context, source: str, target: str) -> None:
    """Record the post of SOURCE under the address TARGET; nothing is sent."""
    from pipeline import app

    workspace = app.open_workspace(_start(ctx))
    _announce(workspace.site)
    app.move(workspace, source, target)
    _echo(f"moved {source} -> {target}")


@state.command("unlock")
@click.argument("lock_id")
@click.pass_context
def state_unlock(ctx: click.Context, lock_id: str) -> None:
    """Break a lock left by a process that died."""
    from pipeline import app

    app.unlock(app.open_workspace(_start(ctx)), lock_id)
    _echo(f"unlocked {lock_id}")


@cli.group()
def sandbox() -> None:
    """The embedded OneAll sandbox."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="0 picks a free port.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where published objects are kept (default: .pipeline/sandbox/serve.jsonl).")
@click.option("--latency", type=click.FloatRange(0), default=0.0, help="Seconds added to every answer.")
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
        project = load_project(find_root(_start(ctx)))
    except UserError:
        project = None
    db = db or (project.root if project else Path.cwd()) / ".pipeline" / "sandbox" / "serve.jsonl"
    faults = Faults(latency=latency, rate_429=rate_429, rate_500=rate_500, rate_503=rate_503, ghost=ghost)
    box = project_sandbox(project, public, private, db, faults)
    server = SandboxServer(box, host, port)
    _echo(f"OneAll sandbox on {server.url} ({len(box.identities)} identities, db {db})")
    _echo(f"  export ONEALL_API_BASE={server.url} ONEALL_PUBLIC_KEY={public}")
    _echo("  and ONEALL_PRIVATE_KEY as set in this shell (default: sandbox-private)")
    try:
        server.httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


def main() -> None:
    cli(prog_name="pipeline")
