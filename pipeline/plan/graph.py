"""References between actions as a DAG: dangling and ill-typed references, cycles, order."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import AbstractSet, Iterable, Mapping

from pipeline.errors import Diagnostic, UserError
from pipeline.model.action import DesiredAction


@dataclass(frozen=True)
class Graph:
    """Desired actions with their dependencies, in a deterministic topological order."""

    actions: Mapping[str, DesiredAction]
    deps: Mapping[str, tuple[str, ...]]
    order: tuple[str, ...]
    #: The reverse of ``deps``: who references each address.
    users: Mapping[str, list[str]]


def dependents(deps: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Who depends on each node: the reverse of ``deps`` (nodes outside it are ignored)."""
    users: dict[str, list[str]] = {a: [] for a in deps}
    for address, needs in deps.items():
        for need in needs:
            if need in users:
                users[need].append(address)
    return users


def build(actions: Iterable[DesiredAction], problems: Iterable[Diagnostic] = (),
          broken: AbstractSet[str] = frozenset()) -> Graph:
    """Check every reference and order the actions so each comes after what it uses.

    ``problems`` found earlier are raised together with the graph's own, so a user sees
    every error in one run; references to ``broken`` addresses (already reported) are
    not reported again as dangling.
    """
    by_address: dict[str, DesiredAction] = {}
    problems = list(problems)
    for action in actions:
        if action.address in by_address:  # two files, e.g. a.yaml and a.yml
            problems.append(Diagnostic(f"address {action.address!r} is defined twice", action.location))
        by_address[action.address] = action
    deps: dict[str, tuple[str, ...]] = {}
    for action in by_address.values():
        for use in action.refs:
            if use.target in broken or use.target.rsplit("/", 1)[0] + "/" in broken:
                continue
            problem = _check_ref(action, use.field, use.target, by_address)
            if problem:
                problems.append(Diagnostic(problem, use.location))
        if action.refs and any(spec.alone for spec in action.endpoint.fields):
            problems.extend(_check_alone(action, by_address))
        deps[action.address] = tuple(sorted({u.target for u in action.refs if u.target in by_address}))
    users = dependents(deps)
    order, cycle = _toposort(deps, users)
    if cycle:
        problems.append(Diagnostic(f"reference cycle: {' -> '.join(cycle)}", by_address[cycle[0]].location,
                                   "an action cannot depend, even indirectly, on itself"))
    if problems:
        raise UserError(problems)
    return Graph(by_address, deps, order, users)


def _check_ref(action: DesiredAction, field: str, target: str,
               by_address: Mapping[str, DesiredAction]) -> str | None:
    spec = action.endpoint.by_name[field]
    referenced = by_address.get(target)
    if referenced is None:
        return f"{field!r} references {target!r}, which no manifest defines"
    if not spec.accepts:
        return f"{field!r} takes a literal id: no action type creates one"
    if referenced.type not in spec.accepts:
        return (f"{field!r} of {action.type} cannot take the result of {referenced.type} "
                f"{target!r} (it takes: {', '.join(spec.accepts)})")
    if spec.same_identity and referenced.identity != action.identity:
        return (f"{field!r} references {target!r}, published by {referenced.identity!r}; "
                f"it must belong to the same identity ({action.identity!r})")
    return None


def _check_alone(action: DesiredAction, by_address: Mapping[str, DesiredAction]) -> list[Diagnostic]:
    """A list field whose referenced type must stand alone (a tweet's one video)."""
    problems = []
    for spec in action.endpoint.fields:
        items = action.request.get(spec.name)
        if not spec.alone or not isinstance(items, list) or len(items) < 2:
            continue
        for use in action.refs:
            target = by_address.get(use.target)
            if use.field == spec.name and target is not None and target.type in spec.alone:
                problems.append(Diagnostic(
                    f"{spec.name!r} of {action.type} holds {target.type} {use.target!r}, which must "
                    f"be its only item (up to {spec.max_items} of the others, or exactly 1 of it)",
                    use.location))
                break
    return problems


def _toposort(deps: Mapping[str, tuple[str, ...]],
              users: Mapping[str, list[str]]) -> tuple[tuple[str, ...], list[str]]:
    """Kahn's algorithm, smallest address first among the ready ones, so order is stable."""
    indegree = {a: len(d) for a, d in deps.items()}
    ready = [a for a, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        address = heapq.heappop(ready)
        order.append(address)
        for user in users[address]:
            indegree[user] -= 1
            if indegree[user] == 0:
                heapq.heappush(ready, user)
    if len(order) == len(deps):
        return tuple(order), []
    return tuple(order), _find_cycle({a: d for a, d in deps.items() if indegree[a] > 0})


def _find_cycle(deps: Mapping[str, tuple[str, ...]]) -> list[str]:
    """One cycle among nodes that all sit on or behind a cycle, as a closed path."""
    start = min(deps)
    seen: list[str] = []
    node = start
    while node not in seen:
        seen.append(node)
        node = min(n for n in deps[node] if n in deps)
    cycle = seen[seen.index(node):]
    return [*cycle, node]
