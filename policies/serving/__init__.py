"""WAM-specific serving: many sessions' chunk loops batched on one shared network, and its benchmark.

The server itself (codec, sessions, dialects, the remote client) is generic and lives in
harness/serving/; a WAM factory offers it shared sessions (`policies.factory`), built here.
"""
