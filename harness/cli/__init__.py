"""The `wambench` command. Each subcommand lives in its own module with `register(subparsers)`."""

from __future__ import annotations

import argparse
import errno
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from harness.errors import StorageError, UserError
from harness.outlock import describe_os_error
from harness.registry import Registry
from harness.storeio import storage_error

# Our commands, in `wambench --help` order: name -> the module under harness.cli that defines
# register(subparsers) and sets a `func` default taking the parsed args and returning an exit code.
COMMANDS: dict[str, str] = {
    "list": "listing",
    "run": "run",
    "info": "info",
    "export": "export",
    "bench": "bench",
    "latency": "latency",
    "doctor": "doctor",
    "report": "report",
    "compare": "compare",
    "serve": "serve",
}


def _is_command(obj: Any) -> bool:
    return callable(getattr(obj, "register", None))


# Every command: ours, then plugins' (e.g. a suite's own tools, `wambench robotwin seeds`) through the
# `wambench.commands` entry points, each a module with register(subparsers), imported only to build the
# parser. A plugin that claims one of our names is refused (the name then says so when run).
commands: Registry[Any] = Registry("command", "wambench.commands", check=_is_command, references=False)
for _name, _module in COMMANDS.items():
    commands.register(_name, f"harness.cli.{_module}")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_STORAGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's usage errors are bad input too: exit 2, in two lines (the full usage of `run`
        is a screenful, and the error would scroll away under it)."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n(see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wambench", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    plugins = sorted(set(commands.names()) - set(COMMANDS))
    for name in [n for n in COMMANDS if n in commands.names()] + plugins:
        try:
            commands.get(name).register(sub)
        except Exception as exc:  # a broken plugin must not take `wambench info` down with it
            _unavailable(sub, name, commands.source(name), exc)
    return parser


def _unavailable(sub: Any, name: str, source: str, exc: Exception) -> None:
    """A plugin command that failed to import: listed, and one line saying why when it is run."""
    if name in sub.choices:
        return
    detail = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    why = f"command '{name}' could not be loaded ({source}): {detail}"

    def fail(args: argparse.Namespace) -> int:
        raise UserError(f"{why}; reinstall wambench (`make setup`) or remove the plugin")

    p = sub.add_parser(name, help=f"unavailable: {why}", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=fail)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from harness import __version__

        print(__version__)
        return EXIT_OK
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"wambench: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StorageError as exc:
        print(f"wambench: error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except sqlite3.Error as exc:  # a store read outside the runner (info, export, report)
        print(f"wambench: error: {storage_error(exc, getattr(args, 'out', '?'))}", file=sys.stderr)
        return EXIT_STORAGE
    except OSError as exc:
        if exc.errno not in _STORAGE_ERRNOS:
            raise
        print(f"wambench: error: {exc.filename or ''}: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:  # Ctrl-C outside a run (imports, planning, a report): no traceback
        print("wambench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# Environment problems with files (not bugs): one line and exit 3, like a store that cannot be written.
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO}


if __name__ == "__main__":
    sys.exit(main())
