"""A state that the pipeline did not write itself, with the site's key, is never published
from until a person confirms it: a pull request that forgets a post (to publish it twice)
or forges one (so that it is never published) is refused by the apply on main."""

from __future__ import annotations

import json
import re

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import LAUNCH, Project

STATE = "state/state.json"


def _published(project: Project, site_env: dict[str, str]) -> dict[str, object]:
    project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert (project.root / f"{STATE}.sig").read_text().startswith("hmac-sha256:")
    return json.loads((project.root / STATE).read_text())


def _posts(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.sandbox.received if r.method == "POST")


def test_a_hand_edited_state_is_refused_until_its_digest_is_confirmed(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    doc = _published(project, site_env)
    del doc["resources"]["posts/launch/tweet"]  # "forget" the tweet: merging would post it twice
    (project.root / STATE).write_text(json.dumps(doc, indent=2))
    sent = _posts(sandbox)
    refused = project.run("apply", "--yes", env=site_env)
    assert refused.exit_code == 1 and "was changed since the pipeline last wrote it" in refused.output
    assert _posts(sandbox) == sent
    digest = re.search(r"--confirm-state (sha256:[0-9a-f]{64})", refused.output)
    assert digest is not None
    wrong = project.run("apply", "--yes", "--confirm-state", "sha256:" + "0" * 64, env=site_env)
    assert wrong.exit_code == 1 and _posts(sandbox) == sent
    confirmed = project.run("apply", "--yes", env={**site_env, "PIPELINE_CONFIRM_STATE": digest.group(1)})
    # The person chose to post it again (here Twitter refuses the duplicate: 409).
    assert "changed since" not in confirmed.output and _posts(sandbox) == sent + 1
    again = project.run("apply", "--yes", env=site_env)  # that apply signed what it wrote
    assert "changed since" not in again.output and "no signature" not in again.output


def test_a_state_without_its_signature_is_refused(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _published(project, site_env)
    (project.root / f"{STATE}.sig").unlink()
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "has no signature" in result.output


def test_a_forged_journal_line_is_never_folded_in(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _published(project, site_env)
    journal = project.root / f"{STATE}.journal"
    forget = json.dumps({"op": "forget", "address": "posts/launch/tweet"})
    journal.write_text(forget + "\n")  # alone, it is "the last line": dropped as torn
    sent = _posts(sandbox)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert _posts(sandbox) == sent
    assert "posts/launch/tweet" in json.loads((project.root / STATE).read_text())["resources"]
    journal.write_text(forget + "\t" + "0" * 32 + "\n" + forget + "\n")  # in the middle: damaged
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "did not write" in result.output and _posts(sandbox) == sent


def test_state_commands_with_the_key_sign_what_they_write_and_without_it_do_not(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _published(project, site_env)
    assert project.run("state", "forget", "--yes", "posts/launch/hero", env=site_env).exit_code == 0
    assert project.run("plan", env=site_env).exit_code == 0
    no_key = {k: v for k, v in site_env.items() if k != "ONEALL_PRIVATE_KEY"}
    assert project.run("state", "forget", "--yes", "posts/launch/tweet", env=no_key).exit_code == 0
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "was changed since the pipeline last wrote it" in result.output


def test_the_sandbox_state_needs_no_signature(project: Project) -> None:
    project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes").exit_code == 0
    assert not list((project.root / ".pipeline" / "sandbox").glob("*.sig"))


def _two_signed_states(project: Project, site_env: dict[str, str]) -> str:
    """main with a signed state, then a newer one: the commit of the older one."""
    project.git("init", "-q", "-b", "main")
    project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.git("add", "-A")
    project.git("commit", "-qm", "first apply")
    older = project.git("rev-parse", "HEAD").strip()
    project.manifest("posts/more", LAUNCH.replace("is out!", "is here!"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.git("add", "-A")
    project.git("commit", "-qm", "second apply")
    return older


def test_an_older_signed_state_brought_back_is_refused(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    older = _two_signed_states(project, site_env)
    project.git("checkout", older, "--", STATE, f"{STATE}.sig")  # signed, but forgets posts/more
    project.git("commit", "-qm", "innocent revert")
    sent = _posts(sandbox)
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "is older (serial 1) than one git recorded (serial 2)" in result.output
    assert _posts(sandbox) == sent


def test_a_removed_state_is_refused_when_git_recorded_one(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _two_signed_states(project, site_env)
    project.git("rm", "-q", STATE, f"{STATE}.sig")
    project.git("commit", "-qm", "start over")
    sent = _posts(sandbox)
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "was removed, although git recorded one" in result.output
    assert _posts(sandbox) == sent
