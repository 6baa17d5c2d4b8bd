"""Faults on PUT and DELETE, OneAll's own 503, and a gateway's 502 after the work was done."""

from __future__ import annotations

from typing import Callable

import pytest
import requests

from pipeline.catalog import BY_TYPE
from pipeline.oneall.sandbox import Faults

from .sandbox_api import TOKENS, Api, status

POST = {"page": "111", "message": "Lift-off at dawn"}


@pytest.mark.parametrize(("rate", "code"), [("rate_429", 429), ("rate_500", 500), ("rate_503", 503)])
def test_put_and_delete_refused_before_acting_change_nothing(api: Api, rate: str, code: int) -> None:
    result = api.push("facebook.page.post", POST)
    setattr(api.box.faults, rate, 1.0)
    put = api.put("facebook.page.post", {**POST, "message": "Edited"}, result)
    delete = api.delete("facebook.page.post", POST, result)
    assert (put.status_code, delete.status_code) == (code, code)
    assert [o["fields"]["message"] for o in api.box.published()] == [POST["message"]]


def test_a_503_is_oneall_saying_in_its_envelope_that_nothing_was_done(api: Api) -> None:
    api.box.faults.rate_503 = 1.0
    answer = api.call("POST", f"/push/identities/{TOKENS['twitter']}/twitter/post.json",
                      {"request": {"push": {"post": {"message": "x"}}}})
    assert answer.status_code == 503 and answer.headers["Content-Type"] == "application/json"
    assert status(answer)["flag"] == "error" and status(answer)["code"] == 503
    assert api.box.published() == []


def test_a_gateway_502_is_html_and_comes_after_the_request_was_carried_out(api: Api) -> None:
    result = api.push("facebook.page.post", POST)
    api.box.faults.gateway_502 = 1.0
    answers = [
        api.call("POST", f"/push/identities/{TOKENS['twitter']}/twitter/post.json",
                 {"request": {"push": {"post": {"message": "made it"}}}}),
        api.put("facebook.page.post", {**POST, "message": "Edited"}, result),
    ]
    for answer in answers:
        assert answer.status_code == 502 and answer.headers["Content-Type"] == "text/html"
        with pytest.raises(ValueError):
            answer.json()
    assert [o["fields"]["message"] for o in api.box.published()] == ["Edited", "made it"]
    assert api.delete("facebook.page.post", POST, result).status_code == 502
    assert [o["type"] for o in api.box.published()] == ["twitter.post"]


def test_a_ghost_put_or_delete_is_carried_out_and_answered_too_late(serve: Callable[..., Api]) -> None:
    api = serve(faults=Faults(ghost_delay=0.6))
    result = api.push("facebook.page.post", POST)
    api.box.faults.ghost = 1.0
    endpoint = BY_TYPE["facebook.page.post"]
    resource = api.url + endpoint.update_path(TOKENS["facebook"], POST, result)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.put(resource, json=endpoint.edit_body({**POST, "message": "Edited"}), timeout=0.2)
    assert api.box.published()[0]["fields"]["message"] == "Edited"
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.delete(resource, timeout=0.2)
    assert api.box.published() == []
