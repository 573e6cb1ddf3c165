"""Entry point of the ``batikstudio`` command.

Each sub-command lives in its own module under ``batikstudio/cli/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int`` as default.
The registry below is explicit: add a module name to ``COMMAND_MODULES`` to add a command.
Errors a user can cause (:class:`~batikstudio.errors.BatikError`) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from batikstudio import __version__
from batikstudio.errors import BatikError

# module names under batikstudio.cli, in the order their commands are listed in --help
COMMAND_MODULES: tuple[str, ...] = (
    "cmd_gui",
    "cmd_generate",
    "cmd_model",
    "cmd_filter",
    "cmd_dyes",
    "cmd_animate",
    "cmd_dataset",
    "cmd_export",
    "cmd_import",
    "cmd_style",
    "cmd_train",
    "cmd_motifs",
    "cmd_calligraphy",
    "cmd_metrics",
    "cmd_doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batikstudio",
        description="Batik Studio: generate batik motifs with GANs and prepare them for print. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"batikstudio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="torch CPU threads (default: $BATIKSTUDIO_THREADS or torch's default)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"batikstudio.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        from batikstudio.runtime import configure_threads

        configure_threads(args.threads)
        if args.command is None:
            args = parser.parse_args(["gui", *(argv or [])])
        return int(args.func(args) or 0)
    except BatikError as exc:
        print(f"batikstudio: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # argument values checked deeper down (ranges, names) are user errors too
        print(f"batikstudio: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("batikstudio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into a program that stopped reading (``| head``): not an error
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def run() -> None:
    """The console script and ``python -m batikstudio``: :func:`main`, then exit with its code.

    A process that trained as one rank of a ``torchrun`` run ends through
    :func:`batikstudio.training.distributed.end_process` (without the interpreter's
    finalisation, which can abort after a correct run); it is only imported if training ran.
    """
    code = main()
    distributed = sys.modules.get("batikstudio.training.distributed")
    if distributed is not None:
        code = distributed.end_process(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
