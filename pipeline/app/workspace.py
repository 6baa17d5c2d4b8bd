"""A project opened for a run: its configuration, the site it talks to, its manifests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from pipeline.apply import site as site_mod
from pipeline.apply.signature import Signer
from pipeline.apply.store import StateStore
from pipeline.load.cache import compile_project
from pipeline.load.fingerprint import Fingerprint
from pipeline.load.project import Project, find_root, load_project
from pipeline.plan import graph as graph_mod
from pipeline.plan.graph import Graph

#: Requests in flight for one account when pipeline.yaml says nothing of its network.
DEFAULT_PER_IDENTITY = 4


@dataclass(frozen=True)
class Workspace:
    """A project and the site its runs go to; enough for the state commands."""

    project: Project
    site: site_mod.Site

    @property
    def tokens(self) -> dict[str, str]:
        """Each identity's OneAll token, by its name in pipeline.yaml."""
        return {name: ident.token for name, ident in self.project.config.identities.items()}

    @property
    def bounds(self) -> dict[str, int]:
        """Each identity's bound on requests in flight, from its network's setting."""
        config = self.project.config
        default = config.per_identity.get("default", DEFAULT_PER_IDENTITY)
        return {name: config.per_identity.get(ident.network, default)
                for name, ident in config.identities.items()}

    def store(self) -> StateStore:
        credentials = self.site.credentials
        return StateStore(self.site.state_path, self.site.name,
                          shown=self.project.shown(self.site.state_path), root=self.project.root,
                          signer=Signer(credentials.private_key) if credentials is not None else None)


@dataclass(frozen=True)
class Loaded(Workspace):
    """A validated project: its manifests rendered into a graph of actions."""

    graph: Graph
    #: Said at the top of every plan made from it (a cache that was not trusted).
    notes: tuple[str, ...] = ()


def open_workspace(start: Path, env: Mapping[str, str] | None = None) -> Workspace:
    """Find and read ``pipeline.yaml`` and resolve the site; manifests are not read."""
    project = load_project(find_root(start), env)
    return Workspace(project, site_mod.resolve(project, env))


def load(start: Path, env: Mapping[str, str] | None = None, *, use_cache: bool = True) -> Loaded:
    """Load, validate and render everything; every problem is raised at once."""
    return load_workspace(open_workspace(start, env), use_cache=use_cache)


def load_workspace(workspace: Workspace, *, use_cache: bool = True,
                   prints: Fingerprint | None = None) -> Loaded:
    """``load`` for a workspace already open (and maybe its files already hashed)."""
    compiled = compile_project(workspace.project, use_cache=use_cache, prints=prints)
    graph = graph_mod.build(compiled.actions, compiled.problems, compiled.broken)
    return Loaded(workspace.project, workspace.site, graph, compiled.notes)
