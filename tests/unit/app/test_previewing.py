"""``pipeline preview`` and ``pipeline calendar`` on real projects: the files they write."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from tests.helpers import Project

#: A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")


def media_project(project: Project) -> None:
    project.write("pipeline.yaml", project.root.joinpath("pipeline.yaml").read_text()
                  + "media_base_url: https://acme.github.io/content\n")
    project.write("content/media/small.png", "")
    (project.root / "content/media/small.png").write_bytes(PNG)
    big = PNG + b"\0" * (300 * 1024)  # a PNG, over the cap of what is embedded
    (project.root / "content/media/big.png").write_bytes(big)
    project.manifest("posts/pics", """
        actions:
          small:
            type: twitter.picture
            identity: acme-twitter
            file: media/small.png
            description: A small one
          big:
            type: twitter.picture
            identity: acme-twitter
            file: media/big.png
            description: A big one
          remote:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/remote.png
            description: A remote one
    """)


def test_preview_writes_a_site_and_says_where(project: Project, tmp_path: Path) -> None:
    media_project(project)
    out = tmp_path / "site"
    result = project.run("preview", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"open {out / 'index.html'}" in result.output
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} >= {
        "index.html", "preview.css", "calendar.ics", "cards/posts.html", ".pipeline-preview"}
    page = (out / "cards/posts.html").read_text()
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page  # embedded from content/
    assert page.count("data:image/png") == 1  # the big one is over the cap, the remote one never read
    assert "not embedded: larger than 256 KB" in page and "https://cdn.acme.example/remote.png" in page


def test_preview_goes_to_the_private_folder_by_default_and_replaces_itself(project: Project) -> None:
    project.manifest("posts/a", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n")
    assert project.run("preview").exit_code == 0
    out = project.root / ".pipeline/preview"
    (out / "cards/stale.html").write_text("old")
    assert project.run("preview").exit_code == 0
    assert (out / "index.html").is_file() and not (out / "cards/stale.html").exists()


def test_preview_never_empties_a_folder_that_holds_something_else(project: Project, tmp_path: Path) -> None:
    project.manifest("posts/a", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    result = project.run("preview", "--out", str(mine))
    assert result.exit_code == 1 and "is not empty and holds no preview" in result.output
    assert (mine / "thesis.tex").read_text() == "precious"
    link = tmp_path / "link"
    link.symlink_to(mine)
    assert project.run("preview", "--out", str(link)).exit_code == 1


def test_the_pull_request_s_own_changes_come_first(project: Project, tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(project.root), "-c", "user.name=A", "-c", "user.email=a@example",
                        *args], check=True, capture_output=True)

    project.manifest("posts/old", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: old\n")
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-qm", "base")
    project.manifest("posts/new", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: new\n")
    out = tmp_path / "site"
    assert project.run("preview", "--out", str(out), "--changed-since", "main").exit_code == 0
    index = (out / "index.html").read_text()
    assert "Changed since main: 1 actions" in index and "posts/new/t" in index and "posts/old/t" not in index
    page = (out / "cards/posts.html").read_text()
    assert page.index("posts/new/t") < page.index("posts/old/t")


def test_calendar_writes_an_icalendar_file(project: Project, tmp_path: Path) -> None:
    project.manifest("posts/a", """
        actions:
          t:
            type: twitter.post
            identity: acme-twitter
            message: Later
            publish_at: 2031-05-04T10:00:00+02:00
    """)
    out = tmp_path / "posts.ics"
    result = project.run("calendar", "--ics", str(out))
    assert result.exit_code == 0 and "Wrote 1 events" in result.output
    text = out.read_bytes().decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "DTSTART:20310504T080000Z\r\n" in text
    assert "SUMMARY:Twitter (acme-twitter): Later\r\n" in text
