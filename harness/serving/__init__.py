"""Policy serving: the wire codec, the per-connection protocol sessions, the server and the client.

`wambench serve` (harness/cli/serve.py) runs a `PolicyServer`; `policies.backends.remote` is its
client side. See policies/backends/README.md for the protocols and their guarantees.
"""

from policies.serving.client import RemoteError, ServerGone, WireClient
from policies.serving.codec import Limits, WireError, packb, unpackb
from policies.serving.server import PolicyServer

__all__ = [
    "Limits",
    "PolicyServer",
    "RemoteError",
    "ServerGone",
    "WireClient",
    "WireError",
    "packb",
    "unpackb",
]
