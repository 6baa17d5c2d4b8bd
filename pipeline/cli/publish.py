"""The publishing commands: validate, plan, apply."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pipeline.cli.base import (EXIT_ERROR, EXIT_PENDING, UserError, announce, cli, command, echo, fail,
                               overdue_option, replace_option, start, yes_option)
from pipeline.redact import redact


@cli.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Load, validate and render every manifest; report every problem."""
    from pipeline import app

    loaded = app.load(start(ctx))
    announce(loaded.site)
    echo(f"OK: {len(loaded.graph.actions)} actions in "
               f"{len(loaded.project.manifest_paths())} manifests are valid.")



@cli.command()
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there is something to do, 0 when not, 1 on error.")
@replace_option
@overdue_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              help="text for a terminal, markdown for a pull request, json for programs.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save the plan, to apply exactly it later with `pipeline apply FILE`.")
@click.option("--changed-since", metavar="REF", default=None,
              help="Mark (and list first) the actions of files changed since this git ref.")
@click.option("--show-unchanged", is_flag=True, help="List unchanged actions too.")
@click.option("--refresh", "refresh_first", is_flag=True,
              help="First read back every recorded post and report drift (as `pipeline refresh`).")
@click.pass_context
def plan(ctx: click.Context, detailed_exitcode: bool, replace: tuple[str, ...], publish_overdue: tuple[str, ...],
         fmt: str, out: Path | None, changed_since: str | None, show_unchanged: bool, refresh_first: bool) -> None:
    """Show what apply would do, per action."""
    from pipeline import app
    from pipeline.report import github, json, markdown, text

    workspace = app.open_workspace(start(ctx))
    if refresh_first:
        from pipeline.report import drift  # reading back: the HTTP client, only when asked

        found = app.refresh(workspace)
        records = app.show(workspace).resources
        report = drift.drift_markdown(found, records) if fmt == "markdown" else drift.drift_text(found, records)
        echo(report, nl=False, err=fmt == "json")  # JSON output stays one document
    try:
        the_plan = app.plan_command(workspace, replace=frozenset(replace), changed_since=changed_since,
                                    out=out, full=fmt == "json" or show_unchanged,
                                    publish_overdue=frozenset(publish_overdue))
    except UserError as exc:
        if fmt == "markdown":  # the pull request's comment shows the problems instead of a plan
            echo(markdown.errors_markdown(exc.diagnostics), nl=False)
        raise
    announce(workspace.site)
    as_markdown = None  # made once, for the output and the job summary alike
    if fmt == "markdown" or github.summary_path():
        as_markdown = markdown.plan_markdown(the_plan, sandbox=workspace.site.is_sandbox)
    if fmt == "json":
        echo(json.plan_json(the_plan), nl=False)
    elif fmt == "markdown":
        echo(as_markdown or "", nl=False)
    else:
        echo(text.plan_text(the_plan, show_noop=show_unchanged), nl=False)
    if out is not None:
        echo(f"Saved the plan to {out}: `pipeline apply {out}` carries out exactly it.", err=True)
    if github.summary_path():
        github.append_summary(redact(as_markdown or ""))
    if github.active():
        state_file = workspace.project.shown(workspace.site.state_path)
        for warning in the_plan.warnings:
            command(github.warning_command(f"This change edits the state: it {warning}.", state_file))
        for line in github.attention_commands(the_plan):
            command(line)
    github.append_outputs(github.plan_outputs(the_plan))
    if detailed_exitcode and (the_plan.pending or the_plan.count("unknown") or the_plan.moves):
        fail(EXIT_PENDING)


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@yes_option
@replace_option
@overdue_option
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Requests in flight at once.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=0.0,
              help="Seconds to wait for another apply to finish.")
@click.option("--confirm-state", metavar="DIGEST", envvar="PIPELINE_CONFIRM_STATE", default=None,
              help="Publish from a state changed by something other than the pipeline, after "
                   "reviewing that change: the digest the refusal names.")
@click.option("--sandbox", "sandbox", is_flag=True, envvar="PIPELINE_SANDBOX",
              help="In a GitHub Actions run with no OneAll site configured, publish to the "
                   "embedded sandbox on purpose (refused otherwise).")
@click.pass_context
def apply(ctx: click.Context, planfile: Path | None, yes: bool, replace: tuple[str, ...],
          publish_overdue: tuple[str, ...], parallelism: int, lock_timeout: float, confirm_state: str | None, sandbox: bool) -> None:
    """Publish, edit and delete what the plan says, then write the results to the state.

    With PLANFILE (from `pipeline plan --out`), carry out exactly that reviewed plan,
    without asking; it is refused if anything it was made from has changed.
    """
    from pipeline import app
    from pipeline.report import github, text

    if planfile is not None and (replace or publish_overdue):
        raise UserError("a saved plan is applied as it is: --replace and --publish-overdue belong to `pipeline plan`")
    if planfile is None and not yes and not sys.stdin.isatty():
        raise UserError("apply asks for confirmation, but stdin is not a terminal: pass --yes")
    saved = _read_plan(planfile) if planfile is not None else None
    workspace = app.open_workspace(start(ctx))
    announce(workspace.site)
    tty = sys.stdout.isatty()
    progress: list[Any] = []  # made once the plan is confirmed

    def confirm(the_plan: Any) -> bool:
        echo(text.plan_text(the_plan), nl=False)
        if saved is None and not yes and not click.confirm("Carry out these changes?", default=False):
            return False
        progress.append(text.Progress(len(the_plan.sending), tty=tty))
        return True

    def on_event(event: Any) -> None:  # called from one thread: the executor's scheduler
        line = text.event_line(event)
        update = progress[0].update(event)
        if line:
            echo(line, control="\r\033[K" if tty else "")  # on a terminal, over the bar
        if update:
            echo(update.removeprefix("\r"), nl=not tty, control="\r" if update.startswith("\r") else "")

    applied = app.apply_workspace(workspace, saved=saved, confirm=confirm, on_event=on_event,
                        parallelism=parallelism, lock_timeout=lock_timeout, replace=frozenset(replace),
                        confirm_state=confirm_state or None, sandbox=sandbox,
                        publish_overdue=frozenset(publish_overdue))
    github.append_outputs(github.apply_outputs(applied.result))
    if tty and progress:
        echo()  # leave the bar's line
    for settled in applied.settled:
        echo(text.settled_line(settled))
    for source, target in applied.moved:
        echo(f"moved     {source} -> {target} (nothing sent)")
    if applied.result is None:
        if applied.plan.pending and not applied.moved:
            echo("Cancelled: nothing was sent.")
            fail(EXIT_ERROR)
        elif not applied.moved:
            echo(text.plan_text(applied.plan), nl=False)
        return
    echo(text.apply_summary(applied.result))
    if github.summary_path():
        github.append_summary(redact("### pipeline apply\n\n" + text.apply_summary(applied.result)))
    if not applied.result.ok:
        fail(EXIT_ERROR)


def _read_plan(path: Path) -> Any:
    from pydantic import ValidationError

    from pipeline.model.plan import PLAN_FILE

    try:
        return PLAN_FILE.validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"]))
        raise UserError(f"{path}: not a plan saved by `pipeline plan --out` ({where}: {first['msg']})") from None

