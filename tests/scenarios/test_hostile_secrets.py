"""Secrets never leave: no template can reach one, a request holding one is refused, and
every form of one is masked, however short.

A secret configures (an identity's token) and is never a template variable: so
``{{ secret|reverse }}``, slicing or encoding have nothing to work on. What still
arrives in a request (a key written out, or assembled from pieces) is refused at its
line, and the message never repeats it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from pipeline import redact
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY, TOKENS, Project
from tests.scenarios.hostile import TWEET, Scene, make_scene

CAMPAIGN = "campaign-secret-0a9b8c7d"
TWITTER_TOKEN = TOKENS["acme-twitter"][1]
#: Every form of the private key and of the campaign secret a leak could take.
FORMS = [f for s in (PRIVATE_KEY, CAMPAIGN, TWITTER_TOKEN) for f in (s, s[::-1], s.upper(), s.encode().hex())] + [
    base64.b64encode(PRIVATE_KEY.encode()).decode()]


@pytest.fixture
def scene(project: Project, sandbox: SandboxServer, site_env: dict[str, str], tmp_path: Path) -> Scene:
    return make_scene(project, sandbox, site_env, tmp_path)


def configure(scene: Scene, *, var: str | None = None, token: str | None = None, line: str | None = None) -> None:
    """pipeline.yaml with a var (line 22, its value at column 9), acme-twitter's token, or a line added."""
    path = scene.root / "pipeline.yaml"
    text = path.read_text()
    if var is not None:
        text = text.replace("vars:\n", f"vars:\n  leak: {var}\n")
    if token is not None:
        text = text.replace(TWITTER_TOKEN, token)
    if line is not None:
        text += line + "\n"
    path.write_text(text)


def no_form_of_a_secret_in(output: str) -> None:
    for form in FORMS:
        assert form.lower() not in output.lower(), form


USES = "actions:\n" + "".join(
    f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: \"{source}\"\n"
    for i, source in enumerate(["{{ leak }}", "{{ leak|reverse }}", "{{ leak[::-1] }}", "{{ leak[3:] }}",
                                "{{ leak|list|join('.') }}", "{{ leak.encode().hex() }}", "{{ leak|upper }}",
                                "{{ leak|urlencode }}", "{{ leak|tojson }}"]))

CONFIG_CASES = [
    pytest.param(dict(var="${env:ONEALL_PRIVATE_KEY}"), {},
                 "pipeline.yaml:22:9: ${env:ONEALL_PRIVATE_KEY} would read a secret", id="env-private-key"),
    pytest.param(dict(var="${env:ONEALL_PUBLIC_KEY}"), {},
                 "pipeline.yaml:22:9: ${env:ONEALL_PUBLIC_KEY} would read a secret", id="env-public-key"),
    pytest.param(dict(var="x-${env:ONEALL_PRIVATE_KEY}-y"), {},
                 "pipeline.yaml:22:9: ${env:ONEALL_PRIVATE_KEY} would read a secret", id="env-private-key-inside-text"),
    pytest.param(dict(var="${env:ALIAS}"), {"ALIAS": PRIVATE_KEY},
                 "pipeline.yaml:22:9: ${env:ALIAS} holds a secret value", id="env-alias-of-the-private-key"),
    pytest.param(dict(var="${env:GITHUB_TOKEN}"), {"GITHUB_TOKEN": CAMPAIGN},
                 "pipeline.yaml:22:9: ${env:GITHUB_TOKEN} would read a secret", id="env-runner-token"),
    pytest.param(dict(var="${secret:CAMPAIGN}"), {"CAMPAIGN": CAMPAIGN},
                 "pipeline.yaml:22:9: ${secret:CAMPAIGN} cannot be used here", id="secret-in-vars"),
    pytest.param(dict(var="{a: [x, 'utm-${secret:CAMPAIGN}']}"), {"CAMPAIGN": CAMPAIGN},
                 "pipeline.yaml:22:17: ${secret:CAMPAIGN} cannot be used here", id="secret-deep-in-vars"),
    pytest.param(dict(token="${secret:TW}", var="${env:TW}"), {"TW": TWITTER_TOKEN},
                 "pipeline.yaml:22:9: ${env:TW} would read a secret", id="env-naming-a-secret"),
    pytest.param(dict(line="timezone: ${secret:CAMPAIGN}"), {"CAMPAIGN": CAMPAIGN},
                 "pipeline.yaml:25:11: ${secret:CAMPAIGN} cannot be used here", id="secret-in-another-setting"),
]


@pytest.mark.parametrize(("change", "env", "message"), CONFIG_CASES)
def test_pipeline_yaml_cannot_put_a_secret_in_reach_of_a_template(
        scene: Scene, change: dict[str, str], env: dict[str, str], message: str) -> None:
    configure(scene, **change)
    scene.project.manifest("posts/uses", USES)  # every way a template could transform it
    scene.extra_env = env
    no_form_of_a_secret_in(scene.refused(message))


def test_a_secret_configures_an_identity_and_the_post_is_published(scene: Scene) -> None:
    configure(scene, token="${secret:TW}")
    scene.project.manifest("posts/more", TWEET + "    message: configured by a secret\n")
    result = scene.project.run("apply", "--yes", env={**scene.env, "TW": TWITTER_TOKEN})
    assert result.exit_code == 0, result.output
    assert [r.body for r in scene.sandbox.sandbox.received if r.method == "POST"]
    no_form_of_a_secret_in(result.output)


REACH = ["{{ config }}", "{{ identities }}", "{{ environ }}", "{{ env }}", "{{ os }}",
         "{{ self._TemplateReference__context.environment }}", "{{ range.__globals__.os.environ }}",
         "{{ cycler.__init__.__globals__.os.environ }}", "{{ joiner.__call__.__globals__ }}",
         "{{ namespace.__init__.__globals__ }}", "{{ lipsum.__globals__ }}", "{{ self.__init__.__globals__ }}",
         "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ range(1).gi_frame.f_globals }}",
         "{{ dict.__init__ }}", "{{ (1).__class__ }}", "{{ product.__class__.__base__ }}",
         "{{ links.__class__.__init__.__globals__ }}", "{{ links|attr('__class__') }}"]


def test_no_template_path_reaches_the_environment_or_the_configuration(scene: Scene) -> None:
    configure(scene, token="${secret:TW}")
    scene.project.manifest("x", TWEET.replace("  tweet:\n    type: twitter.post\n    identity: acme-twitter\n", "")
                           + "".join(f"  r{i}:\n    type: twitter.post\n    identity: acme-twitter\n"
                                     f"    message: \"{source}\"\n" for i, source in enumerate(REACH)))
    scene.extra_env = {"TW": TWITTER_TOKEN}
    output = scene.refused(*(f"content/x.yaml:{5 + 4 * i}:14: " for i in range(len(REACH))))
    no_form_of_a_secret_in(output)


KEY_PIECES = (PRIVATE_KEY[:15], PRIVATE_KEY[15:])
LEAKS = [  # (field line, what the action says); none writes the key out in the file
    ("message", "\"{{ '%s' ~ '%s' }}\"" % KEY_PIECES),
    ("message", "\"{{ ('%s' ~ '%s')|upper }}\"" % KEY_PIECES),
    ("message", "\"{{ ('%s' ~ '%s')|reverse|join }}\"" % (KEY_PIECES[1][::-1], KEY_PIECES[0][::-1])),
    ("message", PRIVATE_KEY[::-1]),
    ("message", "zz" + base64.b64encode(b"x" + PRIVATE_KEY.encode()).decode()),
    ("message", base64.urlsafe_b64encode(b"xy" + PRIVATE_KEY.encode()).decode()),
    ("message", PRIVATE_KEY.encode().hex().upper()),
    ("message", "\"{{ '%s%%s' %% '%s' }}\"" % KEY_PIECES),
    ("message", "\"{{ '{}{}'.format('%s', '%s') }}\"" % KEY_PIECES),
]


def test_a_request_holding_a_secret_in_any_form_is_refused_at_its_line(scene: Scene) -> None:
    body = "actions:\n" + "".join(
        f"  leak{i}:\n    type: twitter.post\n    identity: acme-twitter\n    {field}: {value}\n"
        for i, (field, value) in enumerate(LEAKS))
    body += ("  url:\n    type: twitter.picture\n    identity: acme-twitter\n"
             "    url: \"https://x.example/?k={{ '%s' ~ '%s' }}\"\n" % KEY_PIECES)
    scene.project.manifest("x", body)
    expected = [f"content/x.yaml:{5 + 4 * i}:14: 'message' holds a secret value after rendering"
                for i in range(len(LEAKS))]
    expected.append(f"content/x.yaml:{5 + 4 * len(LEAKS)}:10: 'url' holds a secret value after rendering")
    output = scene.refused(*expected)
    no_form_of_a_secret_in(output)


def test_a_secret_of_three_characters_is_still_masked(project: Project, tmp_path: Path) -> None:
    # In a child process: a three-character secret masks those letters wherever they are.
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text().replace(
        TWITTER_TOKEN, "${secret:SHORT}"))
    done = subprocess.run([sys.executable, "-m", "pipeline", "--project", str(project.root), "validate"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SHORT": "Zq7"})
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "pipeline.yaml:5:12: 'token' has an invalid form: '***'" in output
    assert "zq7" not in output.lower()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty registry of secrets for one test: what it registers is forgotten after."""
    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setattr(redact, "_written", set())
    monkeypatch.setattr(redact, "_forms", frozenset())
    monkeypatch.setattr(redact, "_pattern", None)
    yield


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("secret", ["Zq7", "a", "s3cr3t-of-some-length", 'q"u\\o<t>e&d Zürich'])
def test_every_form_of_a_secret_is_masked_and_detected(secret: str) -> None:
    import html
    import json
    from urllib.parse import quote, quote_plus

    redact.register(secret)
    forms = {secret, secret.upper(), secret.lower(), quote(secret, safe=""), quote_plus(secret),
             json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], html.escape(secret)}
    if len(secret) >= redact.MIN_TRANSFORMED:
        raw = secret.encode()
        forms |= {secret[::-1], raw.hex(), raw.hex().upper()}
        for lead in (b"", b"x", b"xy"):
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                forms.add(encode(lead + raw + b"tail").decode())
    for form in forms:
        text = f"<<< {form} >>>"
        assert redact.contains_secret({"k": [text]}), form
        masked = redact.redact(text)
        assert "***" in masked and masked.startswith("<<<") and masked.endswith(">>>"), (form, masked)
        if len(secret) >= redact.MIN_TRANSFORMED and form not in (secret, secret.upper(), secret.lower()):
            continue  # an encoded form: its edges share characters with the text around it
        assert secret.lower() not in masked.lower(), (form, masked)
    assert not redact.contains_secret({"k": ["<<< >>>"]})


def test_the_public_key_is_not_masked_but_cannot_be_read_either(scene: Scene) -> None:
    configure(scene, var="${env:ONEALL_PUBLIC_KEY}")
    output = scene.refused("pipeline.yaml:22:9: ${env:ONEALL_PUBLIC_KEY} would read a secret")
    assert PUBLIC_KEY not in output
