"""The CLI's frame: the command group, the one error handler, output, and shared options.

A known error (``PipelineError``) becomes its message and exit 1; anything else is a
bug: its traceback goes to a crash log whose path is printed, and the exit code is 3. A
usage error (an unknown option, a bad value) exits 64, so that it never reads as exit 2,
"changes pending" of ``--detailed-exitcode``. Colour only on a terminal, and never with
``NO_COLOR`` set or ``--no-color``.
Only click is imported here, so ``pipeline --help`` stays instant.
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
from pipeline.redact import redact

__all__ = ["EXIT_BUG", "EXIT_ERROR", "EXIT_OK", "EXIT_PENDING", "EXIT_USAGE", "UserError", "announce", "cli",
           "echo", "fail", "overdue_option", "replace_option", "start", "yes_option"]


EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_BUG = 0, 1, 2, 3
#: click's own code for a usage error is 2, which --detailed-exitcode gives to "changes
#: pending"; a usage error gets EX_USAGE of sysexits.h instead.
EXIT_USAGE = 64

#: False when colour is off (NO_COLOR, --no-color); None: only on a terminal (click decides).
_colour: bool | None = None


class _Group(click.Group):
    """Turns a known error into its message and exit 1, anything else into a crash log."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("Aborted: nothing was done.", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            for diagnostic in exc.diagnostics:
                echo(click.style("error: ", fg="red") + str(diagnostic), err=True)
            from pipeline.report import github  # each error also becomes an annotation on its line

            if github.active():
                for diagnostic in exc.diagnostics:
                    command(github.error_command(diagnostic))
            fail(EXIT_ERROR)
        except PipelineError as exc:
            echo(click.style("error: ", fg="red") + str(exc), err=True)
            fail(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception:  # noqa: BLE001 - a bug: keep the traceback, show its file
            log = _crash_log(ctx)
            echo(f"error: an unexpected error occurred; the traceback is in {log}", err=True)
            fail(EXIT_BUG)


def echo(message: str = "", *, err: bool = False, nl: bool = True, control: str = "") -> None:
    """``click.echo`` of ``message`` with every registered secret masked and every line
    neutralised (no workflow command, no raw control or bidirectional character): all
    output passes here. ``control`` is the CLI's own terminal control, put before it."""
    from pipeline.report.safe import neutralise

    click.echo(control + neutralise(redact(message)), err=err, nl=nl, color=_colour)


def command(line: str) -> None:
    """One of the CLI's own GitHub workflow commands (an annotation), printed as is: its
    data was escaped by ``report.github`` and its secrets masked. On stderr, which the
    runner reads for commands too, so that stdout stays the report (a plan redirected to
    a file holds no command)."""
    click.echo(redact(line), err=True, color=False)


def fail(code: int) -> NoReturn:
    raise click.exceptions.Exit(code)


def _crash_log(ctx: click.Context) -> Path:
    """Write the traceback, secrets masked, under the project's ``.pipeline/logs/``, or the
    system's temporary folder; never through a symlink (a pull request may commit one)."""
    text = redact(traceback.format_exc()).encode("utf-8")
    name = f"crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    project = (ctx.obj or {}).get("project")
    folders = []
    if project and (Path(project) / "pipeline.yaml").is_file():
        from pipeline.load.project import private_dir

        try:  # .pipeline/ itself checked, with its own .gitignore
            folders.append(private_dir(Path(project)) / "logs")
        except PipelineError:
            pass
    folders.append(Path(tempfile.gettempdir()) / f"pipeline-logs-{os.getuid()}")
    for folder in folders:
        try:
            if any(p.is_symlink() for p in (folder.parent, folder)):
                continue
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if folder.is_symlink() or not folder.is_dir():
                continue
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
        return folder / name
    return Path("(the crash log could not be written)")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeline")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder holding pipeline.yaml (default: this folder or a parent).")
@click.option("--no-color", "no_color", is_flag=True, help="No colour, even on a terminal (or set NO_COLOR).")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, no_color: bool) -> None:
    """Publish reviewed YAML manifests to social networks through the OneAll Push API."""
    global _colour
    _colour = False if no_color or os.environ.get("NO_COLOR") else None
    if sys.platform == "win32":  # the state's lock is flock(2), and its files are opened O_NOFOLLOW
        raise UserError("Windows is not supported: run pipeline on Linux or macOS, or under WSL")
    ctx.obj = {"project": project or Path.cwd()}


def start(ctx: click.Context) -> Path:
    return Path(ctx.obj["project"])


def announce(site: Any) -> None:
    if site.is_sandbox:
        echo(click.style("sandbox: ", fg="cyan", bold=True)
                   + "no OneAll site is configured, so this run uses the embedded sandbox; "
                     "nothing is published for real.", err=True)


# Options that more than one command takes, declared once.
replace_option = click.option(
    "--replace", "replace", multiple=True, metavar="ADDRESS",
    help="Publish this address anew although it was published before (then delete the old "
         "post, where OneAll can).")
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
overdue_option = click.option(
    "--publish-overdue", "publish_overdue", multiple=True, metavar="ADDRESS",
    help="Publish this scheduled post although its publish_at passed longer ago than late_after.")
