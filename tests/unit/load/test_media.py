"""file: media from the repository: URLs, and every way a path can go wrong."""

from __future__ import annotations

import os

import pytest

from tests.helpers import Project

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def media_project(project: Project) -> Project:
    config = (project.root / "pipeline.yaml").read_text()
    project.write("pipeline.yaml", config + "media_base_url: https://acme.github.io/site/\n")
    (project.root / "content/media").mkdir(parents=True)
    (project.root / "content/media/rocket hero.png").write_bytes(PNG)
    return project


def picture(project: Project, *lines: str) -> str:
    project.write("content/p.yaml", "actions:\n  pic:\n    type: twitter.picture\n"
                  "    identity: acme-twitter\n" + "".join(f"    {line}\n" for line in lines))
    result = project.run("plan", "--format", "json")
    if result.exit_code:
        assert "Traceback" not in result.output
        return result.stderr.strip().removeprefix("error: ")
    change = __import__("json").loads(result.stdout)["changes"][0]
    return change["request"]["url"]


def test_file_becomes_a_url_under_media_base_url(media_project: Project) -> None:
    assert picture(media_project, "file: media/rocket hero.png") == \
        "https://acme.github.io/site/media/rocket%20hero.png"


def test_file_inside_a_media_field(media_project: Project) -> None:
    assert picture(media_project, "url: {file: media/rocket hero.png}") == \
        "https://acme.github.io/site/media/rocket%20hero.png"


@pytest.mark.parametrize(("line", "message"), [
    ("file: ../pipeline.yaml", "content/p.yaml:5:11: file '../pipeline.yaml' leads out of content/"),
    ("file: media/../../pipeline.yaml", "content/p.yaml:5:11: file 'media/../../pipeline.yaml' leads out of content/"),
    ("file: /etc/passwd", "content/p.yaml:5:11: file '/etc/passwd' must be a path relative to content/"),
    ("file: media/nope.png", "content/p.yaml:5:11: file 'media/nope.png' does not exist under content/"),
    ("url: {file: media/nope.png}", "content/p.yaml:5:17: file 'media/nope.png' does not exist under content/"),
])
def test_bad_paths_are_refused_at_their_line(media_project: Project, line: str, message: str) -> None:
    assert picture(media_project, line) == message


def test_file_and_url_together_are_refused(media_project: Project) -> None:
    assert picture(media_project, "file: media/rocket hero.png", "url: https://x.example/a.png") == \
        "content/p.yaml:2:3: twitter.picture: give either 'url' (a URL) or 'file' (a path under content/), not both"


def test_a_symlink_out_of_content_is_refused(media_project: Project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "secret.png"
    outside.write_bytes(PNG)
    os.symlink(outside, media_project.root / "content/media/link.png")
    assert picture(media_project, "file: media/link.png") == \
        "content/p.yaml:5:11: file 'media/link.png' leads out of content/ (through a symlink)"


def test_a_picture_over_5_mb_is_refused(media_project: Project) -> None:
    (media_project.root / "content/media/big.png").write_bytes(PNG + b"\x00" * (5 * 1024 * 1024))
    size = len(PNG) + 5 * 1024 * 1024
    assert picture(media_project, "file: media/big.png") == (
        f"content/p.yaml:5:11: picture 'media/big.png' is {size} bytes; OneAll takes at most 5242880 (5 MB)")


def test_a_picture_in_another_format_is_refused(media_project: Project) -> None:
    (media_project.root / "content/media/photo.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    assert picture(media_project, "file: media/photo.webp") == \
        "content/p.yaml:5:11: picture 'media/photo.webp' is not jpeg, bmp, png, gif, tiff"


def test_file_without_media_base_url_says_what_to_set(project: Project) -> None:
    (project.root / "content").mkdir(exist_ok=True)
    (project.root / "content/a.png").write_bytes(PNG)
    assert "file: needs media_base_url in pipeline.yaml" in picture(project, "file: a.png")
