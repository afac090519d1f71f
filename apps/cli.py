"""``vae-apps``: the entry point. Parses arguments, runs one command, reports.

Start-up, all in this file: TensorFlow is imported only inside the commands, so
``vae-apps --help`` is instant. ``VAE_APPS_DEFER_KERAS``, set by ``_import_vae_apps``
for vae_apps' first import only, tells ``vae_apps/__init__`` not to import Keras; the first
TensorFlow/Keras import is made quiet and quick by ``_QuietKerasImport``; ``run``
skips Python's slow TensorFlow teardown at exit.
"""

import argparse
import contextlib
import importlib
import importlib.abc
import logging
import os
import sys

COMMANDS = ("train", "encode", "denoise", "label", "generate", "evaluate", "demo")


def build_parser():
    """The ``vae-apps`` parser: one sub-command per module of ``COMMANDS``.

    Each command module has ``add_parser(commands)`` (its options) and ``run(args)``
    (parse nothing more, call the library, print, return the exit status or None).

    Examples:
    >>> build_parser().parse_args(["denoise", "scans/", "clean/"]).command
    'denoise'
    """
    _import_vae_apps()  # without Keras: some options' help lists vae_apps.denoising.presets
    parser = argparse.ArgumentParser(
        prog="vae-apps",
        description="One Variational Autoencoder, three jobs: denoise image folders, label "
                    "mostly unlabelled data, generate sample grids.")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks and TensorFlow's log")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __package__).add_parser(commands)
    for subparser in commands.choices.values():
        _show_defaults(subparser)
    return parser


def _show_defaults(parser):
    """Every option's help ends with its default (unless it already names one)."""
    for action in parser._actions:
        default = action.default
        if not action.option_strings or default is None or default is False \
                or default == argparse.SUPPRESS:
            continue
        shown = ",".join(map(str, default)) if isinstance(default, (tuple, list)) else default
        if action.help is None:
            action.help = f"default {shown}"
        elif "default" not in action.help:
            action.help += f" (default {shown})"


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"vae-apps {version('vae_apps')}"
    except PackageNotFoundError:
        return "vae-apps (not installed)"


def _import_vae_apps():
    """Import vae_apps without Keras (a command imports a model when it needs one). The
    switch is removed again at once, so no process this one starts inherits it; if
    vae_apps was imported already, the import is a no-op and the switch is ignored."""
    os.environ["VAE_APPS_DEFER_KERAS"] = "1"
    try:
        import vae_apps  # noqa: F401
    finally:
        os.environ.pop("VAE_APPS_DEFER_KERAS", None)


def main(argv=None):
    """Parse ``argv``, run the command, print a user mistake as one line.

    Args:
        argv: list of str or None. The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, 2 for a user mistake (``UserError``), 130 after Ctrl-C.

    Examples:
    >>> main(["evaluate", "digits.keras", "digits"])  # doctest: +SKIP
    """
    user_log_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")  # vae_apps sets a default
    args = build_parser().parse_args(argv)
    if not args.debug and user_log_level is None:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # read when TensorFlow is imported, later
    _route_warnings_to_stderr()

    # Once per process; it only acts on the first import of TensorFlow or Keras (an
    # already imported module is not looked up again, so then it never acts).
    if not args.debug and not any(isinstance(f, _QuietKerasImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietKerasImport())
    from vae_apps.errors import UserError

    quiet = {"VAE_APPS_QUIET": "1", "TQDM_DISABLE": "1"} if getattr(args, "quiet", False) else {}
    before = {name: os.environ.get(name) for name in quiet}
    os.environ.update(quiet)  # read by vae_apps.training.callbacks' progress and by tqdm's bars
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
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run():
    """The ``vae-apps`` console script: ``main``, then a quick exit.

    Python's teardown of TensorFlow's objects and threads takes about 2 s after every
    command. By now every output is written and closed, so the process ends at once.

    Examples:
    >>> run()  # as ``vae-apps ...`` on the command line  # doctest: +SKIP
    """
    code = main()
    if "tensorflow" not in sys.modules:
        return code
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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


class _QuietKerasImport(importlib.abc.MetaPathFinder):
    """Makes the first import of TensorFlow or Keras, whenever a command makes it, quiet and quick.

    TensorFlow's C++ start-up chatter (CUDA probes, absl) is silenced, and Keras
    is kept from importing pandas, scikit-learn and matplotlib for integrations no
    command uses (about 2 of its 6 s of import here); they import normally later.
    """

    OPTIONAL = ("pandas", "sklearn", "matplotlib")

    def find_spec(self, name, path=None, target=None):
        if name not in ("tensorflow", "keras"):
            return None
        sys.meta_path.remove(self)  # once: the real finders locate the package
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self.OPTIONAL)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader, hidden):
        self.loader, self.hidden = loader, [m for m in hidden if m not in sys.modules]

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_silenced():
            sys.modules.update(dict.fromkeys(self.hidden))  # None: "import x" fails
            try:
                self.loader.exec_module(module)
            finally:
                for name in self.hidden:
                    sys.modules.pop(name, None)

    def __getattr__(self, name):  # resources, is_package, ...
        return getattr(self.loader, name)


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


if __name__ == "__main__":
    sys.exit(run())
