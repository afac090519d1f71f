"""``vae-apps``: the entry point. Parses arguments, runs one command, reports.

TensorFlow is imported only inside the commands, so ``vae-apps --help`` is instant.
"""

import argparse
import importlib
import logging
import os
import sys

COMMANDS = ("train", "encode", "denoise", "label", "generate", "evaluate", "demo")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="vae-apps",
        description="One Variational Autoencoder, three jobs: denoise image folders, label "
                    "mostly unlabelled data, generate sample grids.")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks and TensorFlow's log")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"apps.{name}").add_parser(commands)
    return parser


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"vae-apps {version('vae_apps')}"
    except PackageNotFoundError:
        return "vae-apps (not installed)"


def main(argv=None):
    args = build_parser().parse_args(argv)
    if not args.debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _route_warnings_to_stderr()

    if not args.debug:
        _import_tensorflow_quietly()
    from vae_apps.errors import UserError

    try:
        return args.run(args) or 0
    except UserError as exc:
        if args.debug:
            raise
        print(f"vae-apps {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vae-apps {args.command}: interrupted", file=sys.stderr)
        return 130


class _StderrHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` (which progress bars and tests may swap)."""

    def emit(self, record):
        print(self.format(record), file=sys.stderr)


def _route_warnings_to_stderr():
    log = logging.getLogger("vae_apps")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        log.addHandler(handler)
    logging.addLevelName(logging.WARNING, "warning")
    log.setLevel(logging.INFO)
    log.propagate = False
    for noisy in ("absl", "tensorflow", "h5py"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up chatter (CUDA probes, absl) silenced."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            except ImportError:
                pass  # reported properly when a command needs it
    finally:
        os.dup2(saved, 2)
        os.close(saved)


if __name__ == "__main__":
    sys.exit(main())
