"""A plan of a few changed files, from the plan made before them: only what the change
can reach is planned again, and the rest of the plan is the one remembered.

What the change can reach: the actions of the changed files, before and after, and
every action linked to them by references, transitively, both ways, in the old graph
and in the new (the *region*). The planner's decision for an action depends on its own
record, on the kinds of what it uses and on the times of what uses it: all within its
connected part of the graph. Only moves reach further (a post whose manifest moved is
matched to a record anywhere); the caller plans in full whenever one is possible.

The order is the planner's too. The planner emits actions smallest-address-first among
those whose references are done (Kahn's algorithm with a heap). That order, restricted
to one connected part, is the part's own such order; and the whole is those sequences
merged so that each run of a sequence, from an address larger than every one before it
up to the next such, goes out together, runs in the order of their first addresses. So
each action's place is the key (first address of its run, position): keys of parts
planned apart compare exactly as their places in one plan would.
"""

from __future__ import annotations

from dataclasses import replace
from typing import AbstractSet, Iterable, Mapping, Sequence

from pipeline.model.action import DesiredAction
from pipeline.model.plan import Change, Plan
from pipeline.plan.graph import Graph

Key = tuple[str, int]


def order_keys(graph: Graph) -> dict[str, Key]:
    """Each action's sort key, as described above: (first address of its run, position)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.get(node, node) != node:
            parent[node] = parent.get(parent[node], parent[node])
            node = parent[node]
        return node

    for address, needs in graph.deps.items():
        for need in needs:
            a, b = root(address), root(need)
            if a != b:
                parent[a] = b
    run: dict[str, str] = {}  # each part's largest address so far
    keys: dict[str, Key] = {}
    for position, address in enumerate(graph.order):
        part = root(address)
        if address > run.get(part, ""):
            run[part] = address
        keys[address] = (run[part], position)
    return keys


def region(seeds: Iterable[str], deps: Mapping[str, Sequence[str]], users: Mapping[str, Sequence[str]],
           new: Mapping[str, DesiredAction], limit: int) -> set[str] | None:
    """Every address linked to ``seeds`` through references old (``deps``/``users``) or
    new (``new``'s), or None once more than ``limit`` are."""
    new_users: dict[str, list[str]] = {}
    for action in new.values():
        for use in action.refs:
            new_users.setdefault(use.target, []).append(action.address)
    found = set(seeds)
    todo = list(found)
    while todo:
        address = todo.pop()
        linked = [*deps.get(address, ()), *users.get(address, ()), *new_users.get(address, ())]
        if address in new:
            linked += [use.target for use in new[address].refs]
        for other in linked:
            if other not in found:
                found.add(other)
                todo.append(other)
        if len(found) > limit:
            return None
    return found


def is_row_of_action(change: Change) -> bool:
    """A change that stands for a desired action (not an orphan, nor a replaced post's delete)."""
    return change.kind != "orphan" and not change.superseded


def merge(base: Plan, base_keys: Mapping[str, Key], part: Plan, part_keys: Mapping[str, Key],
          replanned: AbstractSet[str], omitted_there: int) -> Plan:
    """The base plan with the changes of the ``replanned`` addresses (and every orphan,
    and the deletes of replaced posts of the addresses ``part`` holds records of) taken
    from ``part``, in the one plan's order.

    ``omitted_there``: how many of the base's unlisted unchanged actions were replanned.
    """
    redone = {c.address for c in part.changes if c.superseded} | replanned
    actions = [(base_keys[c.address], c) for c in base.changes
               if is_row_of_action(c) and c.address not in replanned]
    actions += [(part_keys[c.address], c) for c in part.changes if is_row_of_action(c)]
    superseded = [c for c in base.changes if c.superseded and c.address not in redone]
    superseded += [c for c in part.changes if c.superseded]
    orphans = [c for c in part.changes if c.kind == "orphan"]
    listed = [c for _, c in sorted(actions, key=lambda pair: pair[0])]
    noop = [c for c in listed if c.kind == "noop" and not c.moved_from]
    changes = tuple(c for c in listed if c.kind != "noop" or c.moved_from) + \
        tuple(sorted(superseded, key=lambda c: c.address)) + tuple(sorted(orphans, key=lambda c: c.address))
    return replace(base, changes=changes, noop_omitted=base.noop_omitted - omitted_there + len(noop))
