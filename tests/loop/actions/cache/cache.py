"""GitHub's cache service as its documentation describes it, kept in STANDIN_CACHE_DIR
(https://docs.github.com/en/actions/reference/workflows-and-actions/dependency-caching):

- a run saves only into its own scope, GITHUB_REF (``refs/pull/N/merge`` for a pull
  request, ``refs/heads/main`` for a push or a schedule on main), and a key is never
  saved twice in one scope (a cache cannot be changed);
- a run restores from its own scope, then its pull request's base branch
  (GITHUB_BASE_REF), then the default branch (STANDIN_DEFAULT_BRANCH): in each, the exact
  key, then each restore key as a prefix, the most recently created first;
- an entry is found only by the same ``version``, which the paths make.

act gives every run its own workspace and temporary folder; GitHub's runners keep theirs
in one place, where actions/cache stores paths relative to the workspace. So paths here
are recorded relative to GITHUB_WORKSPACE or RUNNER_TEMP, which is what makes them equal
from run to run. Every restore and save is logged (log.jsonl) for the test to read.
"""

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

STORE = Path(os.environ["STANDIN_CACHE_DIR"])
ROOTS = {"workspace": Path(os.environ["GITHUB_WORKSPACE"]), "temp": Path(os.environ["RUNNER_TEMP"])}


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def placed(path: str) -> tuple[str, str]:
    """(root, path relative to it): the workspace's, or the runner's temporary folder's."""
    full = Path(path) if os.path.isabs(path) else ROOTS["workspace"] / path
    for name, root in ROOTS.items():
        if full == root or root in full.parents:
            return name, str(full.relative_to(root))
    raise SystemExit(f"::error::the stand-in keeps only paths in the workspace or RUNNER_TEMP: {path}")


def version(paths: list[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps(paths).encode()).hexdigest()


def entries() -> list[dict]:
    index = STORE / "index.json"
    return json.loads(index.read_text()) if index.exists() else []


def log(record: dict) -> None:
    with open(STORE / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**record, "run": os.environ.get("GITHUB_RUN_ID"),
                             "ref": os.environ["GITHUB_REF"]}) + "\n")


def output(**values: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
        fh.writelines(f"{name}={value}\n" for name, value in values.items())


def scopes() -> list[str]:
    found = [os.environ["GITHUB_REF"]]
    if os.environ.get("GITHUB_BASE_REF"):
        found.append("refs/heads/" + os.environ["GITHUB_BASE_REF"])
    found.append("refs/heads/" + os.environ.get("STANDIN_DEFAULT_BRANCH", "main"))
    return list(dict.fromkeys(found))


def restore(paths: list[tuple[str, str]], key: str, prefixes: list[str]) -> None:
    known = [e for e in entries() if e["version"] == version(paths)]
    for scope in scopes():
        mine = [e for e in known if e["scope"] == scope]
        found = [e for e in mine if e["key"] == key]
        for prefix in ([] if found else [key, *prefixes]):
            found = sorted((e for e in mine if e["key"].startswith(prefix)), key=lambda e: -e["seq"])
            if found:
                break
        if found:
            entry = found[0]
            for name, relative in paths:
                source = STORE / entry["folder"] / name / relative
                target = ROOTS[name] / relative
                if source.is_dir():
                    shutil.copytree(source, target, dirs_exist_ok=True)
                elif source.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
            hit = "true" if entry["key"] == key else "false"
            log({"op": "restore", "key": key, "matched": entry["key"], "scope": scope, "hit": hit})
            print(f"Cache restored from key: {entry['key']} ({scope})")
            output(**{"cache-hit": hit, "cache-primary-key": key, "cache-matched-key": entry["key"]})
            return
    log({"op": "restore", "key": key, "matched": None, "scope": None, "hit": ""})
    print(f"Cache not found for input keys: {', '.join([key, *prefixes])}")
    output(**{"cache-hit": "", "cache-primary-key": key, "cache-matched-key": ""})


def save(paths: list[tuple[str, str]], key: str) -> None:
    scope, known = os.environ["GITHUB_REF"], entries()
    if any(e["scope"] == scope and e["key"] == key and e["version"] == version(paths) for e in known):
        log({"op": "save", "key": key, "scope": scope, "saved": False})
        print(f"::warning::Failed to save: a cache with the key {key} exists already in {scope}")
        return
    present = [(name, relative) for name, relative in paths if (ROOTS[name] / relative).exists()]
    if not present:
        log({"op": "save", "key": key, "scope": scope, "saved": False})
        print("::warning::Path Validation Error: none of the paths exist, hence no cache is being saved.")
        return
    seq = max((e["seq"] for e in known), default=0) + 1
    folder = f"entries/{seq}"
    for name, relative in present:
        source, target = ROOTS[name] / relative, STORE / folder / name / relative
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    known.append({"scope": scope, "key": key, "version": version(paths), "seq": seq, "folder": folder})
    (STORE / "index.json").write_text(json.dumps(known, indent=1))
    log({"op": "save", "key": key, "scope": scope, "saved": True, "folder": folder})
    print(f"Cache saved with key: {key} ({scope})")


if __name__ == "__main__":
    STORE.mkdir(parents=True, exist_ok=True)
    chosen = [placed(p) for p in lines(os.environ["PATHS"])]
    if sys.argv[1] == "restore":
        restore(chosen, os.environ["KEY"], lines(os.environ.get("RESTORE_KEYS", "")))
    else:
        save(chosen, os.environ["KEY"])
