"""Shared helpers for the benchmark scripts (run from the repository root)."""

import json
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist.npz"


# `vae-apps train`'s training settings before benchmarks/experiments/time_to_quality.py changed them,
# spelled out so comparisons survive later changes of the defaults.
PREVIOUS_TRAINING = dict(epochs=10, batch_size=128, learning_rate=1e-3, schedule="constant",
                         warmup_steps=0, precision="float32", early_stopping=None)


def load_mnist(path=DEFAULT_MNIST):
    from vae_apps.io.data import load_data

    return load_data(str(path))


def write_noisy_pngs(x, y, folder, noise="gaussian:0.5", seed=0, chunk=5000):
    """Write noisy copies of images ``x`` as ``folder/<label>/<index>.png``."""
    from vae_apps.io.images import save_uint8
    from vae_apps.denoising.noise import parse_noise

    noise = parse_noise(noise)
    for first in range(0, len(x), chunk):
        noisy = noise.apply(x[first:first + chunk], seed=seed + first)
        for i, (img, label) in enumerate(zip(noisy, y[first:first + chunk]), start=first):
            save_uint8(Path(folder) / str(label) / f"{i:05d}.png", img)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def table(rows, headers):
    """Render rows as a Markdown table (so it pastes into the docs)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(r) for r in rows)])


def describe_machine():
    """The CPU, core count and library versions a result was measured with."""
    import platform

    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name in ("tensorflow", "keras", "numpy", "skimage"):
        try:
            versions.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            pass
    return f"{model}, {os.cpu_count()} cores; " + ", ".join(versions)


def command_line():
    """This benchmark's command line as README and the docs give it."""
    return "python " + shlex.join(["benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]])


def write_results(stem, tables=None, texts=None, results_dir=RESULTS, commands=None):
    """Keep a benchmark's tables and sentences in ``results_dir/<stem>.json`` for
    ``render_tables.py``: each entry carries the command line and the machine it was
    measured with; entries not given now keep their earlier values (one benchmark may
    fill its tables in several runs).

    Args:
        stem: str. The file name without ``.json``.
        tables: dict. {name: (header, rows)}: header a list of column titles, rows lists
            of cells (already formatted as they should read).
        texts: dict. {name: sentence}: figures given in prose.
        commands: dict or None. {table or text name: the command lines that made it}, for
            entries that merge rows of earlier runs; default: this run's command line.
    """
    path = Path(results_dir) / f"{stem}.json"
    kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    command = command_line()
    commands = commands or {}

    def made(name):
        return dict(command=commands.get(name, command), machine=describe_machine())

    for name, (header, rows) in (tables or {}).items():
        kept.setdefault("tables", {})[name] = dict(made(name), header=list(header),
                                                   rows=[[str(c) for c in r] for r in rows])
    for name, text in (texts or {}).items():
        kept.setdefault("texts", {})[name] = dict(made(name), text=str(text))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def report_table(stem, name, rows, headers):
    """Print a table and keep it in benchmarks/results/<stem>.json as ``name``
    (``render_tables.py`` renders it where a document has ``<!-- table: stem.name -->``)."""
    print(table(rows, headers))
    write_results(stem, tables={name: (headers, rows)})
