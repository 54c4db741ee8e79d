"""A Policy whose chunks come from a policy server over websocket, in one of three dialects.

`protocol` (an option) says which server it talks to (harness/serving/dialects/): `wambench`
(default, `wambench serve`: the whole EpisodeSpec travels, so a remote episode equals an in-process
one), `lingbot` (LingBot-VA's server and the Flash-WAM server built on it), `openpi` (openpi's
`serve_policy.py`). This module is what the dialects share: the connection, the checks of what is
served, reconnecting, and turning server failures into episode errors. It knows no policy: the WAM
backend `remote` (policies/backends/remote.py) adapts it to the WAM factory, and `remote` below
registers it for servers that serve something wambench has no name for.

Timings per chunk: the server's stages as it reports them (wambench: encode, video, action, decode,
total; LingBot-VA: only its wall-clock `infer_ms`, which is not CUDA-synchronised, as `total`, with
the key-frame call as `encode`), `server_infer` (the server's time around its handler) and
`round_trip` (this client's time from send to reply, so network and (de)serialisation show up as
`round_trip - server_infer`).

Failures: the runner's pre-flight (`probe`) connects once, so a missing server, or one serving another
policy, stops the run before any worker starts; each built policy then connects (retrying with backoff
until `connect_timeout_s`: a server may still be loading weights). A server that dies or stops
answering within `call_timeout_s` during an episode makes that episode an `error` (EpisodeError); the
next episode's reset reconnects. Options: see policies/backends/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from harness.errors import SetupError
from harness.serving.adapters import AdapterError
from harness.serving.client import RemoteError, ServerGone
from harness.serving.dialects import DIALECTS
from harness.serving.remote_settings import RemoteSettings
from harness.types import ActionChunk, EpisodeError, EpisodeSpec, Observation, PolicySpec, Suite


def served_spec(requested: PolicySpec, meta: Mapping[str, Any], settings: RemoteSettings) -> PolicySpec:
    """The spec to store: what the server says it serves, under the requested name (checked)."""
    served = meta.get("spec") if isinstance(meta.get("spec"), Mapping) else None
    if settings.protocol == "wambench" and meta.get("server") != "wambench":
        raise SetupError(
            f"{settings.url} is not a wambench server (its metadata has {sorted(map(str, meta))}); "
            "for LingBot-VA / Flash-WAM servers use protocol: lingbot, for openpi protocol: openpi"
        )
    if served is not None and settings.check_policy and served.get("name") != requested.name:
        raise SetupError(
            f"{settings.url} serves policy '{served.get('name')}', not '{requested.name}'; results "
            "would be stored under the wrong name (serve the right one, or set check_policy: false)"
        )
    details = dict(requested.details)
    details.update({"url": settings.url, "protocol": settings.protocol})
    if served is None:  # a foreign server: keep what the config says, note what the server said
        details["server_metadata"] = {str(k): repr(v)[:200] for k, v in meta.items()}
        return replace(requested, backend="remote", details=details)
    served_details = served.get("details")
    if isinstance(served_details, Mapping):  # e.g. `trained`, samplers, device: the server's truth
        details.update(served_details)
        details.update({"url": settings.url, "protocol": settings.protocol})
    details["served"] = dict(served)
    return replace(
        requested,
        method=str(served.get("method", requested.method)),
        nfe_video=served.get("nfe_video", requested.nfe_video),
        nfe_action=served.get("nfe_action", requested.nfe_action),
        backend="remote",
        checkpoint=served.get("checkpoint", requested.checkpoint),
        details=details,
    )


def probe(
    requested: PolicySpec,
    suite: Suite,
    options: Mapping[str, Any],
    policy_options: frozenset[str] = frozenset(),
) -> PolicySpec:
    """Connect once (with the usual retries), check what is served, disconnect."""
    settings = RemoteSettings.parse(suite, options, policy_options)
    client = settings.client()
    try:
        meta = client.connect()
    except (ServerGone, RemoteError) as exc:
        raise SetupError(str(exc)) from None
    finally:
        client.close()
    return served_spec(requested, meta, settings)


class RemotePolicy:
    """One episode at a time over one connection; reconnects at the next reset if the server went away.

    `policy_options`: the served policy's own option names, refused here with the fix (RemoteSettings).
    """

    def __init__(
        self,
        spec: PolicySpec,
        suite: Suite,
        options: Mapping[str, Any],
        policy_options: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings = RemoteSettings.parse(suite, options, policy_options)
        self.protocol = settings.protocol
        self.suite = suite
        self.camera_keys = settings.camera_keys
        self.client = settings.client()
        try:
            meta = self.client.connect()
        except (ServerGone, RemoteError) as exc:
            raise SetupError(str(exc)) from None
        self.spec = served_spec(spec, meta, settings)
        self._served = meta.get("policy")
        self._dialect = DIALECTS[self.protocol](self)
        self._episode: EpisodeSpec | None = None
        self._chunks = 0
        self._steps: list[Observation] = []  # observations since the last chunk (see observe)

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, episode: EpisodeSpec, instruction: str) -> None:
        self._episode, self._chunks, self._steps = episode, 0, []
        msg = self._dialect.reset(episode, instruction)
        for attempt in (0, 1):
            try:
                if not self.client.connected:
                    meta = self.client.connect()
                    if meta.get("policy") != self._served:
                        raise EpisodeError(
                            f"{self.client.url} now serves '{meta.get('policy')}', not '{self._served}'"
                        )
                if msg is not None:
                    self.client.call(msg, timeout_s=self.settings.reset_timeout_s)
                return
            except ServerGone as exc:
                if attempt == 1:
                    raise EpisodeError(f"policy server unavailable at reset: {exc}") from None
                self.client.close()  # a server restarted since the last episode: reconnect once
            except RemoteError as exc:
                raise EpisodeError(f"policy server refused the reset: {exc}") from None

    def observe(self, obs: Observation) -> None:
        """The runner's per-step hook: the frames seen during a chunk. LingBot-VA's server gets its key
        frames with the next chunk request; a wambench server gets every one before the next `act`
        (its policy picks what it keeps, as in-process)."""
        if self._dialect.collects_steps:
            self._steps.append(obs)

    def act(self, obs: Observation) -> ActionChunk:
        if self._episode is None:
            raise RuntimeError("act before reset")
        try:
            chunk = self._dialect.act(obs, self._steps, self._chunks)
        except ServerGone as exc:
            self.client.close()
            raise EpisodeError(f"policy server went away mid-episode (chunk {self._chunks}): {exc}") from None
        except RemoteError as exc:
            raise EpisodeError(f"policy server error (chunk {self._chunks}): {exc}") from None
        except AdapterError as exc:
            raise EpisodeError(f"unexpected reply from the policy server: {exc}") from None
        self._chunks += 1
        self._steps = []
        return chunk

    def close(self) -> None:
        self.client.close()


class RemoteFactory:
    """A registry entry for servers that serve something wambench has no name for (LingBot-VA's own
    teacher, an openpi model): `policies: [{name: "harness.serving.remote:remote", options: {...}}]`.
    Its results are stored under the label the config gives it. A runner's `policy_server: shared`
    hands it to its workers too (`PolicyServer.client_config`)."""

    spec = PolicySpec("remote", "remote", backend="remote", description="a policy server over websocket")

    def build(self, suite: Suite, options: Mapping[str, Any]) -> RemotePolicy:
        return RemotePolicy(self.spec, suite, {"check_policy": False, **dict(options)})

    def validate(self, suite: Suite, options: Mapping[str, Any]) -> PolicySpec:
        return probe(self.spec, suite, {"check_policy": False, **dict(options)})


remote = RemoteFactory()

__all__ = ["RemoteFactory", "RemotePolicy", "probe", "remote", "served_spec"]
