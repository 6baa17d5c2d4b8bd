"""The sandbox as its own tests meet it: served on loopback, called with plain HTTP.

Paths and bodies come from the catalogue (``push_path``, ``update_path``,
``edit_body``), so these tests also check that the sandbox routes what the client
sends; everything else is hand-written JSON, as OneAll's other clients send it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import requests

from pipeline.catalog import BY_TYPE
from pipeline.oneall.sandbox import Sandbox

KEYS = ("sandbox-test-public", "sandbox-test-private")
TOKENS = {
    "twitter": "923843ec-1749-4cc1-988f-d6963f3b1baa",
    "facebook": "1a2b3c4d-1749-4cc1-988f-d6963f3b1baa",
    "linkedin": "2a2b3c4d-1749-4cc1-988f-d6963f3b1baa",
    "pinterest": "3a2b3c4d-1749-4cc1-988f-d6963f3b1baa",
    "youtube": "4a2b3c4d-1749-4cc1-988f-d6963f3b1baa",
}
#: A second Facebook account, to show that one account cannot touch another's posts.
OTHER_FACEBOOK = "5a2b3c4d-1749-4cc1-988f-d6963f3b1baa"
PICTURE = "https://cdn.example/p.png"


def status(answer: requests.Response) -> dict[str, Any]:
    """``response.request.status`` of an answer's envelope."""
    return answer.json()["response"]["request"]["status"]  # type: ignore[no-any-return]


def collection(data: Mapping[str, Any]) -> dict[str, Any]:
    """The one collection node of a Pull answer in the nested or prefixed shape."""
    (node,) = data.values()
    return node  # type: ignore[no-any-return]


@dataclass
class Api:
    """A sandbox on loopback and a session holding its keys."""

    box: Sandbox
    url: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.auth = KEYS

    def call(self, method: str, resource: str, body: Any = None, *, raw: bytes | None = None,
             **kwargs: Any) -> requests.Response:
        data = raw if raw is not None else None
        return self.session.request(method, self.url + resource, json=body, data=data, timeout=5, **kwargs)

    def push(self, type_name: str, values: Mapping[str, Any], token: str | None = None) -> dict[str, Any]:
        """Publish and return ``result.data``; the push must succeed."""
        endpoint = BY_TYPE[type_name]
        token = token or TOKENS[endpoint.network]
        answer = self.call("POST", endpoint.push_path(token, values), endpoint.wire_body(values))
        assert answer.status_code == 200, answer.text
        return answer.json()["response"]["result"]["data"]  # type: ignore[no-any-return]

    def put(self, type_name: str, values: Mapping[str, Any], result: Mapping[str, str], *,
            body: Any = None, token: str | None = None) -> requests.Response:
        """Edit through the Update API; the body is the catalogue's unless given."""
        endpoint = BY_TYPE[type_name]
        resource = endpoint.update_path(token or TOKENS[endpoint.network], values, result)
        return self.call("PUT", resource, endpoint.edit_body(values) if body is None else body)

    def delete(self, type_name: str, values: Mapping[str, Any], result: Mapping[str, str], *,
               token: str | None = None) -> requests.Response:
        endpoint = BY_TYPE[type_name]
        return self.call("DELETE", endpoint.update_path(token or TOKENS[endpoint.network], values, result))

    def pull(self, resource: str, **params: Any) -> dict[str, Any]:
        """``result.data`` of a Pull answer; the read must succeed."""
        answer = self.call("GET", resource, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["response"]["result"]["data"]  # type: ignore[no-any-return]

    def listed(self, type_name: str, values: Mapping[str, Any], **params: Any) -> list[dict[str, Any]]:
        """The entries listing what ``type_name`` published with ``values`` (nested shape)."""
        endpoint = BY_TYPE[type_name]
        resource = endpoint.pull_path(TOKENS[endpoint.network], values)
        assert resource is not None, type_name
        return collection(self.pull(resource, **params)).get("entries", [])  # type: ignore[no-any-return]
