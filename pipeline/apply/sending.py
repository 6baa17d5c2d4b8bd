"""What one change sends: its values, references filled with published ids, and the
account it goes through. Built before anything is written for the change, so that one
whose values or resource path cannot be built sends nothing."""

from __future__ import annotations

import threading
from typing import Any, Mapping

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.errors import PipelineError
from pipeline.model.plan import Change
from pipeline.model.state import State


class Sending:
    """Reads the ids of what was published from ``state`` (under ``lock``, which the
    executor holds while it folds results in)."""

    def __init__(self, state: State, lock: threading.Lock, tokens: Mapping[str, str]) -> None:
        self.state, self.lock = state, lock
        self.tokens = tokens  # identity name -> identity token

    def unresolvable(self, change: Change) -> str | None:
        """Why a reference cannot be filled, if it cannot (called once its deps are done)."""
        for dep in change.depends_on:
            if self.id_of(dep) is None:
                return f"references {dep}, which has no published id (pipeline state resolve can set it)"
        return None

    def id_of(self, address: str) -> str | None:
        with self.lock:
            record = self.state.resources.get(address)
        if record is None or record.status != "published":
            return None
        return record.result.get(catalog.BY_TYPE[record.type].id_field)

    def _resolve(self, change: Change) -> dict[str, Any]:
        endpoint = catalog.BY_TYPE[change.type]

        def fill(value: Any) -> Any:
            if isinstance(value, dict) and "ref" in value:
                filled = self.id_of(value["ref"])
                if filled is None:
                    raise PipelineError(f"{change.address}: {value['ref']} has no id")
                return filled
            return value

        values: dict[str, Any] = {}
        for name, value in change.request.items():
            kind = endpoint.by_name[name].kind
            values[name] = [fill(v) for v in value] if kind is Kind.ID_LIST else fill(value)
        return values

    def values(self, change: Change) -> dict[str, Any]:
        """What is sent: references filled with ids; for a delete, the literal values its
        path needs from what was published (the post lives where it was sent, whatever
        the manifest says now), the ids from the record. The resource path is built here,
        before anything is written, so that one that cannot be built sends nothing."""
        endpoint = catalog.BY_TYPE[change.type]
        if change.kind == "delete":
            record = change.record
            sent = record.request if record is not None and record.request is not None else change.request
            values = {k: v for k, v in sent.items() if not isinstance(v, (dict, list))}
        else:
            values = self._resolve(change)
        try:
            token = self.token(change)
            if change.kind == "create":
                endpoint.push_path(token, values)
            else:
                assert change.record is not None
                endpoint.update_path(token, values, change.record.result)
        except (ValueError, KeyError) as exc:
            raise PipelineError(f"its resource path cannot be built: {exc}") from None
        return values

    def token(self, change: Change) -> str:
        """The account to send through: for an edit or a delete, the one that published
        the post (a post cannot be reached through another account)."""
        if change.kind != "create" and change.record is not None:
            return self.tokens[change.record.identity]
        return self.tokens[change.identity]
