"""Policy serving: the wire codec, the per-connection protocol sessions, the server and the client.

`wambench serve` (harness/cli/serve.py) runs a `PolicyServer`; `harness.serving.remote` is its
client side. See policies/backends/README.md for the protocols and their guarantees.
"""

from harness.serving.client import RemoteError, ServerGone, WireClient
from harness.serving.codec import Limits, WireError, packb, unpackb
from harness.serving.server import PolicyServer

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
