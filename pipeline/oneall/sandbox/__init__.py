"""The embedded sandbox: an emulator of OneAll's Push, Update and Pull APIs on loopback.

It is driven by the same catalogue as the client, so routes, body nodes, field names
and limits agree with oneall-push-api.md by construction; what it adds is what a
real network does: ids and locations in each network's style, 401/403/404/409
answers, and a memory of what was published (a JSON-lines file, so it survives
runs). Faults (latency, 429/500/503, "ghost" posts that are created but never
answered in time) make the failure modes testable.

``app`` is the WSGI application, ``checks`` the validation of request bodies, ``ids``
the id minter, ``server`` the threading HTTP server.
"""

from pipeline.oneall.sandbox.app import Received, Sandbox, new_keys
from pipeline.oneall.sandbox.faults import Faults
from pipeline.oneall.sandbox.server import SandboxServer

__all__ = ["Faults", "Received", "Sandbox", "SandboxServer", "new_keys"]
