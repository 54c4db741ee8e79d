"""`policy_server: shared`: the runner starts the run's policy servers, and stops them with the run.

One `wambench serve` process per device of the run (the policies' `device` option; a CPU run: one
process), on this machine's loopback, serving every (policy, suite) pair of the run that runs on that
device: one listener per pair, on a free port, each batching its sessions' network evaluations, so a
session is keyed by policy through the listener it connects to. The networks of one device then
live in one process (one CUDA context and memory pool, not one per pair). Every worker builds the
client the server names (its `client_config`: the `remote` backend at the pair's URL) instead of the
policy, so the harness names no policy and imports nothing from `policies`: the server is found
through the same registry and serving module as `wambench serve`.

A server runs in its own session (Ctrl-C in the terminal reaches the runner, which stops it after the
workers), reads its stdin, and stops when the runner closes it or dies (EOF). It is stopped on every
way out of the run: finish, Ctrl-C, SIGTERM, an exception. Its log goes to
`<out>/policy-servers/<n>.log`; a server that exits or is not listening within `ready_timeout_s` is a
SetupError quoting the end of that log.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harness.errors import SetupError

READY_TIMEOUT_S = 600.0  # a large checkpoint loads for minutes before the server listens
STOP_TIMEOUT_S = 10.0


@dataclass
class _Server:
    device: str
    keys: list[tuple[str, str]]  # (policy id, suite name) of each listener
    process: subprocess.Popen[bytes]
    ready: Path
    log: Path
    log_file: IO[bytes]


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def device_of(options: Mapping[str, Any]) -> str:
    """The device a policy's options name (the WAM backends' `device`; none named: the CPU)."""
    return str(options.get("device") or "cpu")


class SharedPolicyServers:
    def __init__(
        self,
        policies: Mapping[str, tuple[str, Mapping[str, Any]]],
        suites: Mapping[str, tuple[str, Mapping[str, Any]]],
        out_dir: Path,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        self.policies, self.suites = policies, suites
        self.folder = Path(out_dir) / "policy-servers"
        self.ready_timeout_s = ready_timeout_s
        self._servers: list[_Server] = []

    def _env(self) -> dict[str, str]:
        """The runner's import path, so that the server finds what the runner finds (as spawned
        workers do: multiprocessing hands them the parent's sys.path)."""
        env = dict(os.environ)
        paths = [p for p in sys.path if p and Path(p).is_dir()]
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        return env

    def _entries(self) -> dict[str, list[dict[str, Any]]]:
        """Per device, what its server serves: one entry per (policy, suite) pair."""
        out: dict[str, list[dict[str, Any]]] = {}
        for pid, (policy_ref, options) in self.policies.items():
            for suite_name, (suite_ref, suite_options) in self.suites.items():
                out.setdefault(device_of(options), []).append(
                    {
                        "key": [pid, suite_name],
                        "policy": policy_ref,
                        "options": dict(options),
                        "suite": suite_ref,
                        "suite_options": dict(suite_options),
                    }
                )
        return out

    def start(self) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
        """Start one server per device, wait until each listens; (policy id, suite) -> the workers' client."""
        self.folder.mkdir(parents=True, exist_ok=True)
        env = self._env()
        for device, entries in self._entries().items():
            n = len(self._servers)
            ready, log, serve = (self.folder / f"{n}.{ext}" for ext in ("ready.json", "log", "serve.json"))
            ready.unlink(missing_ok=True)
            serve.write_text(json.dumps(entries))
            cmd = [
                sys.executable,
                "-m",
                "harness.cli",
                "serve",
                "--serve-file",
                str(serve),
                "--ready-file",
                str(ready),
                "--stop-on-stdin-eof",
                "--log-level",
                "warning",
            ]
            log_file = log.open("wb")
            process = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
            keys = [(str(e["key"][0]), str(e["key"][1])) for e in entries]
            self._servers.append(_Server(device, keys, process, ready, log, log_file))
        served: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        for server in self._servers:
            served.update(self._wait(server))
        return served

    def _wait(self, server: _Server) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + self.ready_timeout_s
        what = f"the policy server for device {server.device} ({', '.join(p for p, _ in server.keys)})"
        while not server.ready.exists():
            code = server.process.poll()
            if code is not None:
                raise SetupError(
                    f"{what} exited (code {code}) before listening: {_tail(server.log)} (log: {server.log})"
                )
            if time.monotonic() > deadline:
                raise SetupError(
                    f"{what} is not listening after {self.ready_timeout_s:g} s (log: {server.log})"
                )
            time.sleep(0.05)
        out = {}
        for item in json.loads(server.ready.read_text())["servers"]:
            client = item["client"]
            out[(str(item["key"][0]), str(item["key"][1]))] = (str(client["policy"]), dict(client["options"]))
        return out

    def stop(self) -> None:
        """Close every server's stdin (it shuts down cleanly), then kill what is still running."""
        for server in self._servers:
            with contextlib.suppress(OSError, ValueError):
                if server.process.stdin is not None:
                    server.process.stdin.close()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for server in self._servers:
            try:
                server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=5)
            server.log_file.close()
            server.ready.unlink(missing_ok=True)
        self._servers.clear()

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [s.process for s in self._servers]


__all__ = ["SharedPolicyServers", "device_of"]
