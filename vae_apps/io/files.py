"""Safe file outputs and paths: atomic writes, refusal to overwrite, staying inside a root."""

import contextlib
import errno
import os
import re
import secrets
import zipfile
from pathlib import Path

from vae_apps.errors import UserError


@contextlib.contextmanager
def atomic_path(path, overwrite=True):
    """Yield a temporary path beside ``path``; move it into place only on success.

    The temporary name keeps the real extension because Keras and PIL choose the
    format from it. On any error the temporary file is removed, so a failed or
    interrupted write never leaves a partial output behind.

    Args:
        path: str or Path. The final file.
        overwrite: bool. Allow replacing an existing ``path`` (default True).

    Examples:
    >>> with atomic_path("model.keras") as tmp:
    ...     model.save(tmp)
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise UserError(f"{path}: already exists (pass --overwrite to replace it)")
    if not path.parent.is_dir():
        ensure_folder(path.parent)
    # A random name instead of mkstemp: the writer creates the file itself, which saves
    # a create-and-close per output (a third of a small image's write time here).
    # The writer's process id is in the name, so a later run can tell the leftovers of a
    # killed run (its process is gone) from another live run's files (remove_stale_temporaries).
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(6)}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise UserError(f"{path}: cannot write here ({reason})") from exc
    except BaseException:
        _remove_quietly(tmp)
        raise


_TEMPORARY = re.compile(r"^\..+\.(\d+)-[0-9a-f]{12}\.tmp(\.[^.]*)?$")


def remove_stale_temporaries(folder):
    """Delete the temporary files that runs killed mid-write (SIGKILL, power loss) left
    under ``folder``: only ``atomic_path``'s names whose writing process is gone.

    Args:
        folder: str or Path. An output folder.

    Returns:
        How many files were removed.

    Examples:
    >>> remove_stale_temporaries("clean/")
    0
    """
    removed = 0
    for root, _, names in os.walk(folder):
        for name in names:
            match = _TEMPORARY.match(name)
            if match and not _process_alive(int(match.group(1))):
                _remove_quietly(Path(root) / name)
                removed += 1
    return removed


def _process_alive(pid):
    """Whether process ``pid`` runs. A zombie does not: a killed run's workers, their parent
    gone, can stay zombies until something reaps them (in a container whose first process
    reaps nothing, for as long as the container lives), and their files are leftovers."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid):
    try:  # Linux: the state follows the command name, which may hold spaces and ")"
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS, Windows): os.kill's answer stands


def _remove_quietly(path):
    with contextlib.suppress(OSError):
        os.remove(path)


def resolve_inside(root, relative, what="path"):
    """Return ``root / relative`` resolved, refusing absolute paths and escapes from root.

    Args:
        root: str or Path. The data root.
        relative: str. A path read from user data (a labels CSV).
        what: str. Names the path in the error.

    Examples:
    >>> resolve_inside("data/", "cats/1.png")  # doctest: +SKIP
    PosixPath('/home/me/data/cats/1.png')
    >>> resolve_inside("data/", "../secret")  # raises UserError  # doctest: +SKIP
    """
    root = Path(root).resolve()
    if os.path.isabs(relative):
        raise UserError(f"{what} {relative!r} is absolute; give it relative to {root}")
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise UserError(f"{what} {relative!r} points outside the data root {root}")
    return target


def check_output_outside(input_dir, output_dir):
    """Refuse an output folder equal to or inside the input folder.

    Args:
        input_dir: str or Path. The folder read.
        output_dir: str or Path. The folder to write.

    Examples:
    >>> check_output_outside("scans/", "scans/clean/")  # raises UserError  # doctest: +SKIP
    """
    inp, out = Path(input_dir).resolve(), Path(output_dir).resolve()
    if out == inp or out.is_relative_to(inp):
        raise UserError(f"{output_dir}: the output folder must not be inside the input folder {input_dir}")


def check_model_file(path):
    """Return ``path`` as a Path if it is a file that can be a ``.keras`` model (a zip archive).

    Args:
        path: str or Path. The model file given by the user.

    Examples:
    >>> check_model_file("missing.keras")  # raises UserError  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path}: not a Keras model file (.keras zip archive)")
    return path


def check_new_output(path, overwrite):
    """Refuse to replace an existing output unless ``overwrite``; return the path.

    Args:
        path: str or Path or None. The output (``None``: nothing to check).
        overwrite: bool. Replacing it was asked for.

    Examples:
    >>> out = check_new_output("model.keras", overwrite=False)
    """
    if path is not None and Path(path).exists() and not overwrite:
        raise UserError(f"{path}: already exists (pass --overwrite to replace it)")
    return path


def ensure_folder(folder):
    """Create ``folder`` (and parents) or raise UserError saying why not.

    Args:
        folder: str or Path. The folder to create (existing is fine).

    Examples:
    >>> ensure_folder("report/figures")
    """
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder}: cannot create this folder ({exc.strerror or exc})") from None
