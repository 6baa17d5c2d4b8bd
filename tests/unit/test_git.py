"""What the apply reads of the state's history in git: its edges, streamed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipeline import git
from pipeline.apply.signature import behind


def _commit(repo: Path, serial: int, records: int) -> None:
    state = {"format_version": 1, "lineage": "L-1", "resources": {
        f"posts/p{i:06d}/tweet": {"digest": "sha256:" + "0" * 64, "identity": "acme", "status": "published",
                                  "type": "twitter.post"} for i in range(records)}, "serial": serial, "site": "x"}
    (repo / "state.json").write_text(json.dumps(state, sort_keys=True, indent=2) + "\n")
    subprocess.run(["git", "-C", str(repo), "add", "state.json"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", f"serial {serial}"], check=True)


def test_recent_versions_give_each_version_s_edges_and_never_the_whole(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "t@example.com"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "t"], check=True)
    for serial in (1, 2, 3):
        _commit(repo, serial, 20_000)  # about five megabytes each
    (repo / "state.json").unlink()
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "removed"], check=True)
    versions = git.recent_versions(repo, "state.json")
    assert versions[0] == b""  # the removal
    assert all(len(v) <= 2 * 4096 + 1 for v in versions)
    assert [b'"serial": %d' % n in v for n, v in zip((3, 2, 1), versions[1:])] == [True, True, True]
    newest = (b'{\n  "format_version": 1,\n  "lineage": "L-1",\n  "resources": {},\n  "serial": 2,\n'
              b'  "site": "x"\n}\n')
    assert behind(newest, versions) == "is older (serial 2) than one git recorded (serial 3)"
