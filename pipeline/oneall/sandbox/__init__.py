"""The embedded sandbox: an emulator of OneAll's Push, Update and Pull APIs on loopback.

It is driven by the same catalogue as the client, so routes, body nodes, field names,
limits and what can be edited or deleted agree with docs/oneall-api.md by
construction; what it adds is what a real network does: ids and locations in each
network's style, 401/403/404/405/409 answers, Pull listings in OneAll's list shapes,
and a memory of what was published, edited and deleted (a JSON-lines file, so it
survives runs). Faults make the failure modes testable; ``edit_elsewhere`` and
``delete_elsewhere`` make drift testable.

Modules: ``app`` the WSGI application (routing, auth, Push/Update/Pull handlers),
``checks`` the validation of request bodies against the catalogue, ``listing`` the
shapes of Pull answers, ``store`` identities and objects and their db, ``ids`` the id
minter, ``faults`` misbehaviour on purpose, ``wire`` the envelope, ``server`` the
threading HTTP/1.1 server.
"""

from pipeline.oneall.sandbox.app import Received, Sandbox, new_keys
from pipeline.oneall.sandbox.faults import Faults
from pipeline.oneall.sandbox.server import SandboxServer

__all__ = ["Faults", "Received", "Sandbox", "SandboxServer", "new_keys"]
