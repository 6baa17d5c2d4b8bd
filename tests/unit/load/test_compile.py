"""Loading, validating and rendering manifests: golden messages at exact file:line:col."""

from __future__ import annotations

import pytest

from tests.helpers import Project


def errors(project: Project) -> list[str]:
    result = project.run("validate")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return [line.removeprefix("error: ") for line in result.stderr.splitlines() if line.startswith("error: ")]


GOLDEN = [
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            colour: red
        """,
        "content/posts/x.yaml:6:5: unknown field 'colour' for twitter.post "
        "(allowed: attachments, deleted, identity, location, message, publish_at)",
        id="bad-field"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
        """,
        "content/posts/x.yaml:2:3: missing required field 'message' for twitter.post",
        id="missing-field"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: one
            message: two
        """,
        "content/posts/x.yaml:6:5: duplicate key 'message'",
        id="duplicate-key"),
    pytest.param(
        """
        vars:
          text: &t hello
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: *t
        """,
        "content/posts/x.yaml:2:9: YAML anchors and aliases are not allowed: write each value out",
        id="alias"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "{{ product }} {{ 'x' * 129 }}"
        """,
        "content/posts/x.yaml:5:14: 'message' is 141 characters after rendering; "
        "twitter.post allows at most 140",
        id="141-characters-after-rendering"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "Now {{ prodcut }}"
        """,
        "content/posts/x.yaml:5:14: undefined variable: 'prodcut' is undefined",
        id="undefined-variable"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments:
              - ref: hero
        """,
        "content/posts/x.yaml:7:9: 'attachments' references 'posts/x/hero', which no manifest defines",
        id="dangling-reference"),
    pytest.param(
        """
        actions:
          first:
            type: twitter.post
            identity: acme-twitter
            message: first
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments: [{ref: first}]
        """,
        "content/posts/x.yaml:10:19: 'attachments' of twitter.post cannot take the result of "
        "twitter.post 'posts/x/first' (it takes: twitter.picture, twitter.video)",
        id="reference-of-the-wrong-type"),
    pytest.param(
        """
        actions:
          pic:
            type: twitter.picture
            identity: other-twitter
            url: https://cdn.example/a.png
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments: [{ref: pic}]
        """,
        "content/posts/x.yaml:10:19: 'attachments' references 'posts/x/pic', published by "
        "'other-twitter'; it must belong to the same identity ('acme-twitter')",
        id="reference-to-another-account"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-facebook
            message: hi
        """,
        "content/posts/x.yaml:4:15: identity 'acme-facebook' is a facebook account; "
        "twitter.post needs a twitter one",
        id="identity-of-another-network"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments: ["1", "2", "3", "4", "5"]
        """,
        "content/posts/x.yaml:6:18: 'attachments' has 5 items; twitter.post allows at most 4",
        id="five-attachments"),
    pytest.param(
        """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "{% include 'missing.j2' %}"
        """,
        "content/posts/x.yaml:5:14: template 'missing.j2' not found in content/templates/",
        id="missing-include"),
    pytest.param(
        """
        actions:
          tweet: {type: twitter.post, identity: acme-twitter, message: "{{ oops( }}"}
        """,
        "content/posts/x.yaml:2:64: template syntax error: unexpected '}', expected ')'",
        id="template-syntax"),
    pytest.param(
        "actions:\n  tweet:\n    type: twitter.post\n\tidentity: x\n",
        "content/posts/x.yaml:4:1: invalid YAML: found character '\\t' that cannot start any token",
        id="yaml-syntax"),
]




def test_cycle_names_its_path(project: Project) -> None:
    project.manifest("posts/x", """
        actions:
          a:
            type: twitter.post
            identity: acme-twitter
            message: a
            attachments: [{ref: b}]
          b:
            type: twitter.post
            identity: acme-twitter
            message: b
            attachments: [{ref: a}]
    """)
    found = errors(project)
    assert ("content/posts/x.yaml:2:3: reference cycle: posts/x/a -> posts/x/b -> posts/x/a "
            "(hint: an action cannot depend, even indirectly, on itself)") in found


def test_every_problem_of_every_file_is_reported_at_once(project: Project) -> None:
    project.manifest("posts/a", """
        actions:
          long:
            type: twitter.post
            identity: acme-twitter
            message: "{{ 'x' * 141 }}"
    """)
    project.manifest("posts/b", """
        actions:
          odd:
            type: twitter.post
            identity: acme-twitter
            message: hi
            colour: red
          dangling:
            type: twitter.post
            identity: acme-twitter
            message: there
            attachments: [{ref: posts/nowhere/pic}]
    """)
    found = errors(project)
    assert [line.split(": ")[0] for line in found] == [
        "content/posts/a.yaml:5:14", "content/posts/b.yaml:6:5", "content/posts/b.yaml:11:19"]


def test_reference_to_an_action_that_failed_is_not_also_called_dangling(project: Project) -> None:
    project.manifest("posts/x", """
        actions:
          pic:
            type: twitter.picture
            identity: acme-twitter
            url: not-a-url
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments: [{ref: pic}]
    """)
    assert errors(project) == ["content/posts/x.yaml:5:10: 'url' must be an absolute http(s) URL, got 'not-a-url'"]


def test_config_errors_point_into_pipeline_yaml(project: Project) -> None:
    project.write("pipeline.yaml", """
        site: sandbox
        identities:
          acme:
            network: myspace
            token: not-a-uuid
        colour: blue
    """)
    found = errors(project)
    assert found[0].startswith("pipeline.yaml:4:14: 'network' must be ")
    assert found[1] == "pipeline.yaml:5:12: 'token' has an invalid form: 'not-a-uuid'"
    assert found[2].startswith("pipeline.yaml:6:1: unknown field 'colour' for pipeline.yaml")


def test_vars_cascade_manifest_over_config_and_includes_render(project: Project) -> None:
    project.manifest("posts/x", """
        vars:
          product: Acme Jetpack
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "{{ product }} {{ links.shop }} {% include 'signature.j2' %}"
    """)
    result = project.run("plan")
    assert result.exit_code == 0, result.output
    assert '"Acme Jetpack https://acme.example/shop #AcmeJetpack"' in result.output


def test_unquoted_numeric_id_is_kept_as_a_string(project: Project) -> None:
    project.manifest("posts/x", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments: [910890718352281600]
    """)
    result = project.run("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"910890718352281600"' in result.output


MORE = [
    pytest.param(
        "actions:\n  pin:\n    type: pinterest.pin\n    identity: acme-pinterest\n"
        "    board: \"1/../../pinterest/board.json#\"\n    picture: https://x.example/p.png\n",
        "content/posts/x.yaml:5:12: 'board' must be an id: no spaces, '/', '?', '#' or '%', and not . or .., "
        "got '1/../../pinterest/board.json#'",
        id="id-with-a-path-in-it"),
    pytest.param(
        "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: \"\"\n",
        "content/posts/x.yaml:5:14: 'message': String should have at least 1 character",
        id="empty-tweet"),
    pytest.param(
        "actions:\n  p:\n    type: facebook.post\n    identity: acme-facebook\n    message: \"\"\n",
        "content/posts/x.yaml:2:3: facebook.post needs at least one of: message, link",
        id="empty-message-is-no-message"),
    pytest.param(
        "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n"
        "    publish_at: 20261201\n",
        "content/posts/x.yaml:6:17: 'publish_at' must be an ISO 8601 time with an offset, such as "
        "2026-12-01T09:00:00+01:00, got 20261201",
        id="publish-at-as-a-number"),
    pytest.param(
        "publish_at: tomorrow\nactions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n"
        "    message: hi\n  u:\n    type: twitter.post\n    identity: acme-twitter\n    message: ho\n",
        "content/posts/x.yaml:1:13: 'publish_at': Input should be a valid datetime or date, "
        "input is too short",
        id="manifest-publish-at-at-its-own-line"),
    pytest.param(
        "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: |\n"
        "      first line\n      {{ oops( }}\n",
        "content/posts/x.yaml:7:1: template syntax error: unexpected '}', expected ')'",
        id="syntax-error-in-a-block-scalar"),
    pytest.param(
        "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message:\n\n"
        "  u:\n    type: twitter.post\n    identity: acme-twitter\n    message: ok\n",
        "content/posts/x.yaml:5:5: 'message': Input should be a valid string",
        id="empty-value-at-its-key"),
    pytest.param(
        "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n"
        "    message: \"{{ lipsum(300000) }}\"\n",
        "content/posts/x.yaml:5:14: undefined variable: 'lipsum' is undefined",
        id="no-lipsum"),
]


@pytest.mark.parametrize(("manifest", "expected"), GOLDEN + MORE)
def test_golden_error(project: Project, manifest: str, expected: str) -> None:
    project.manifest("posts/x", manifest)
    assert errors(project) == [expected]


@pytest.mark.parametrize(("written", "sent"), [("0123", "0123"), ("0x1F", "0x1F"), ("1_000", "1_000"),
                                               ("108374982736451", "108374982736451")])
def test_unquoted_ids_are_sent_exactly_as_written(project: Project, written: str, sent: str) -> None:
    project.write("content/posts/x.yaml", "actions:\n  p:\n    type: facebook.page.post\n"
                  f"    identity: acme-facebook\n    page: {written}\n    message: hi\n")
    result = project.run("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    assert f'"page": "{sent}"' in result.stdout


def test_the_usual_url_form_accepts_only_what_the_full_check_accepts() -> None:
    """URLs of the usual form skip splitting: that shortcut must never let through what
    the full check refuses, and must give the same answer for what it accepts."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from pipeline.model import manifest
    from pipeline.model.config import check_http_url

    pieces = st.sampled_from(["http", "https", "HTTP", "ftp", "://", ":", "/", "//", "?", "#", "@", "[", "]",
                              "a", "B", "0", ".", "-", "_", "~", "%", " ", "\t", "\n", "\u00a0", "é", "x.example"])

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(["http://", "https://", "HTTPS://", ""]), st.lists(pieces, max_size=10).map("".join))
    def same(scheme: str, rest: str) -> None:
        url = scheme + rest
        try:
            full: str | None = check_http_url(url)
        except ValueError:
            full = None
        if manifest._USUAL_URL.fullmatch(url):
            assert full == url, url

    same()
    for url in ("http://x.example", "https://a.b:8080/p?q=1#f", "https://cdn.acme.example/w-1/hero.png"):
        assert manifest._USUAL_URL.fullmatch(url) and check_http_url(url) == url
