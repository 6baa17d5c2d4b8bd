"""The preview in a real browser: headless Chromium (Debian's package, which .ci/run
installs) opens the pages from a loopback server that records every request.

The example renders without a console message, shows one card per action and its
calendar; hostile manifests neither run script nor load anything nor restyle the page;
the calendar puts each post on its day in the site's time zone. Screenshots go to
tests/artifacts/ (ignored by git); the README's come from here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.browser import Browser, Page, find_chromium, serve
from tests.helpers import REPO, Project


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found: install Debian's `chromium` package (.ci/run does) or set CHROMIUM")
    started = Browser(executable)
    yield started
    started.close()


def site_files(out: Path) -> set[str]:
    return {"/" + p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def check_clean(page: Page, base: str, files: set[str]) -> None:
    """Nothing logged, thrown or blocked, and every request one of the site's own files
    (or an embedded picture, which is no request at all)."""
    assert page.problems == []
    asked = {url.removeprefix(base) for url in page.requests if not url.startswith("data:image/")}
    assert asked <= files, page.requests


#: What a page holds once everything is rendered: each card's address and whether it shows.
CARDS_JS = """[...document.querySelectorAll('article.card')].map(c => {
  const box = c.getBoundingClientRect(), style = getComputedStyle(c);
  return [c.querySelector('code.address').textContent,
          box.width > 100 && box.height > 50 && style.visibility === 'visible' && style.display !== 'none'];
})"""


def preview(project: Project, out: Path, *args: str, env: dict[str, str] | None = None) -> None:
    result = project.run("preview", "--out", str(out), *args, env=env)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- the example

@pytest.fixture
def example(tmp_path: Path) -> Project:
    """The repository's own example content, in a folder of its own."""
    root = tmp_path / "example"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "pipeline.yaml", root / "pipeline.yaml")
    return Project(root)


def test_the_example_renders_without_an_error_with_one_card_per_action_and_its_calendar(
        browser: Browser, example: Project, tmp_path: Path) -> None:
    out = tmp_path / "site"
    preview(example, out)
    plan = json.loads(example.run("plan", "--format", "json").stdout)
    addresses = sorted(c["address"] for c in plan["changes"])
    assert len(addresses) == 26
    files = site_files(out)
    shown: list[str] = []
    with serve(out) as (base, seen):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            page = browser.open(base + name)
            check_clean(page, base, files)
            if name.startswith("/cards/"):
                found = page.js(CARDS_JS)
                assert all(visible for _, visible in found), found
                shown += [address for address, _ in found]
            if name == "/cards/posts.html":
                page.screenshot("example-cards")
            if name.startswith("/calendar/") and "-W" not in name:
                assert page.js("document.querySelectorAll('li.event').length") == 6  # and "+20 more"
                assert page.js("document.querySelector('a.more').textContent") == "+20 more"
                page.screenshot("example-calendar-month")
            if "-W" in name:
                assert page.js("document.querySelectorAll('li.event').length") == 26
                page.screenshot("example-calendar-week", full=True)
            page.close()
        assert set(seen) <= files
    assert sorted(shown) == addresses  # every action, once


# ---------------------------------------------------------------- hostile text

HOSTILE = """
<script>document.title='pwned-script'</script><img src="{beacon}/img" onerror="document.title='pwned-img'">
<a href="javascript:document.title='pwned-link'">click</a> javascript:alert(1) <iframe src="{beacon}/frame"></iframe>
<style>body {{ display: none }} .card {{ background: url({beacon}/css) }}</style><link rel="stylesheet" href="{beacon}/sheet">
"><svg onload="document.title='pwned-svg'"></svg></code></article></main><base href="{beacon}/">
<meta http-equiv="refresh" content="0; url={beacon}/refresh"> {beacon}/x"onmouseover="document.title='pwned-attr'
<form action="{beacon}/form"><button>go</button></form> <object data="{beacon}/object"></object> \u202eevil\u202c
"""


def hostile_project(project: Project, beacon: str) -> None:
    text = HOSTILE.format(beacon=beacon)
    quoted = json.dumps(text)
    project.manifest("posts/hostile", f"""
        publish_at: 2031-01-02T10:00:00+00:00
        actions:
          remote:
            type: twitter.picture
            identity: acme-twitter
            url: {beacon}/remote-picture.png
            description: {quoted}
          post:
            type: facebook.post
            identity: acme-facebook
            message: {quoted}
            link: {beacon}/link-preview
          share:
            type: linkedin.post
            identity: acme-linkedin
            message: {quoted}
            title: {quoted}
            description: {quoted}
            link: {beacon}/linkedin
            picture: {beacon}/linkedin-picture.png
          board:
            type: pinterest.board
            identity: acme-pinterest
            name: {quoted}
          pin:
            type: pinterest.pin
            identity: acme-pinterest
            board: {{ref: board}}
            picture: {beacon}/pin.png
            description: {json.dumps(text[:480])}
    """)
    # A file name is text a pull request writes too.
    project.manifest("posts/\"><img src=x onerror=document.title='pwned-name'>", """
        actions:
          t:
            type: twitter.post
            identity: acme-twitter
            message: "<b onmouseover=x>hi</b>"
    """)


#: What would-be scripts and loads would have left behind, read by the test itself.
INERT_JS = """(() => {
  const bad = [...document.querySelectorAll('script, iframe, object, embed, form, base, svg, style, '
    + 'meta[http-equiv=refresh], link:not([rel=stylesheet]):not([rel=icon])')].map(e => e.tagName);
  const handlers = [...document.querySelectorAll('*')].flatMap(e =>
    [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + '.' + a.name));
  const images = [...document.images].map(i => i.getAttribute('src')).filter(s => !s.startsWith('data:image/'));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href)
    .filter(h => !/^https?:/.test(h));
  const sheets = [...document.styleSheets].map(s => s.href);
  return {title: document.title, bad, handlers, images, links, sheets,
          shown: getComputedStyle(document.body).display};
})()"""


def test_hostile_manifests_run_nothing_load_nothing_and_restyle_nothing(
        browser: Browser, project: Project, tmp_path: Path) -> None:
    out = tmp_path / "site"
    (tmp_path / "beacon").mkdir()
    with serve(tmp_path / "beacon") as (beacon, beaconed):  # what a page must never reach
        hostile_project(project, beacon)
        preview(project, out)
        files = site_files(out)
        pages = sorted(n for n in files if n.endswith(".html"))
        assert len(pages) >= 5
        with serve(out) as (base, seen):
            for name in pages:
                page = browser.open(base + name)
                check_clean(page, base, files)
                found = page.js(INERT_JS)
                assert found == {"title": found["title"], "bad": [], "handlers": [], "images": [], "links": [],
                                 "sheets": [f"{base}/preview.css"], "shown": "block"}, name
                assert "pwned" not in found["title"]
                if name == "/cards/posts.html":
                    text = page.js("document.body.innerText")
                    assert "<script>document.title='pwned-script'</script>" in text  # shown, as text
                    assert page.js(CARDS_JS) and all(v for _, v in page.js(CARDS_JS))
                    page.screenshot("hostile-cards", full=True)
                page.close()
            assert set(seen) <= files
        assert beaconed == []


# ---------------------------------------------------------------- the calendar's days

def test_the_calendar_places_each_post_on_its_day_in_the_site_time_zone(
        browser: Browser, project: Project, sandbox: SandboxServer, site_env: dict[str, str],
        tmp_path: Path) -> None:
    project.write("pipeline.yaml", project.root.joinpath("pipeline.yaml").read_text()
                  + "timezone: Pacific/Auckland\n")
    project.manifest("posts/now", """
        actions:
          out:
            type: twitter.post
            identity: acme-twitter
            message: Already out
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("posts/later", """
        actions:
          utc-evening:
            type: twitter.post
            identity: acme-twitter
            message: Late evening in London
            publish_at: 2030-01-31T23:30:00+00:00
          local-midnight:
            type: twitter.post
            identity: acme-twitter
            message: Just after midnight in Auckland
            publish_at: 2030-07-01T00:15:00
    """)
    out = tmp_path / "site"
    preview(project, out, env=site_env)
    state = json.loads((project.root / "state/state.json").read_text())
    record = state["resources"]["posts/now/out"]
    url = record["result"]["post_location"]
    published_day = record["published_at"]  # UTC; the calendar shows it in Auckland
    from datetime import datetime
    from zoneinfo import ZoneInfo

    day = datetime.fromisoformat(published_day).astimezone(ZoneInfo("Pacific/Auckland")).date()
    day_js = "(d => [...document.querySelectorAll(`[data-date='${d}'] li.event`)].map(e => e.innerText))"
    files = site_files(out)
    with serve(out) as (base, _):
        february = browser.open(f"{base}/calendar/2030-02.html")
        check_clean(february, base, files)
        assert february.js(f"{day_js}('2030-02-01')") == ["12:30 Twitter Late evening in London"]
        assert february.js(f"{day_js}('2030-01-31')") == []
        february.screenshot("calendar-auckland-february")
        july = browser.open(f"{base}/calendar/2030-07.html")
        assert july.js(f"{day_js}('2030-07-01')") == ["00:15 Twitter Just after midnight in Auckland"]
        week = browser.open(f"{base}/calendar/2030-W27.html")
        assert week.js(f"{day_js}('2030-07-01')") == ["00:15 Twitter Just after midnight in Auckland"]
        now = browser.open(f"{base}/calendar/{day:%Y-%m}.html")
        check_clean(now, base, files)
        published = now.js(f"""[...document.querySelectorAll("[data-date='{day}'] li.event.published a.out")]
                               .map(a => a.href)""")
        assert published == [url]
        for page in (february, july, week, now):
            page.close()
