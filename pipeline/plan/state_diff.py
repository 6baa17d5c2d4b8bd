"""What a change to the state file itself does: pure, for the warnings a pull request's
plan puts first. A pull request that edits ``state/`` can make the apply on main publish
a post twice (by forgetting it) or never (by forging it): reviewers must see that."""

from __future__ import annotations

from typing import AbstractSet

from pipeline.model.state import Record, State


def state_warnings(before: State, after: State, defined: AbstractSet[str]) -> list[str]:
    """One sentence per address whose record differs between ``before`` (the state at the
    pull request's base) and ``after`` (its head); ``defined`` are the addresses some
    manifest defines."""
    out: list[str] = []
    if before.lineage and after.lineage != before.lineage:
        out.append(f"replaces the state's history (lineage {before.lineage} -> {after.lineage or 'none'})")
    if after.serial < before.serial:
        out.append(f"rolls the state back (serial {before.serial} -> {after.serial})")
    for address in sorted(set(before.resources) | set(after.resources)):
        old, new = before.resources.get(address), after.resources.get(address)
        if old == new:
            continue
        out.append(_sentence(address, old, new, address in defined))
    return out


def _sentence(address: str, old: Record | None, new: Record | None, defined: bool) -> str:
    if new is None:
        assert old is not None
        if old.status == "published":
            return (f"forgets {address}, which is published: merging re-publishes it" if defined else
                    f"forgets {address}, which is published (no manifest defines it now)")
        return f"forgets {address} ({old.status})"
    if old is None:
        ids = ", ".join(f"{k}={v}" for k, v in sorted(new.result.items()))
        what = f"records {address} as {new.status}" + (f" ({ids})" if ids else "")
        return what + (": merging never publishes it" if new.status in ("published", "deleted") else "")
    changes = []
    if old.status != new.status:
        changes.append(f"its status {old.status} -> {new.status}")
    if old.result != new.result:
        changes.append("its ids (edits and deletes would go to another post)")
    if old.digest != new.digest or old.request != new.request:
        changes.append("what it records as sent (the plan compares the manifest with it)")
    if old.type != new.type or old.identity != new.identity:
        changes.append("its type or account")
    if old.superseded != new.superseded:
        changes.append("the replaced post still to delete")
    return f"changes {address}: " + (", ".join(changes) or "its record")
