"""Policy serving for any PolicyFactory: the wire codec, the per-connection protocol sessions (wambench,
LingBot-VA and openpi dialects), the server, and the client.

`wambench serve` (harness/cli/serve.py) runs a `PolicyServer`; `harness.serving.remote` (one module per
dialect under dialects/) is its client side. Nothing here knows a policy: a factory may offer shared
sessions (sharing.py) and say how large its clients' requests get (sizing.py). See
policies/backends/README.md for the protocols and their guarantees.
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
