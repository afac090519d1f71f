"""Folder jobs under stress: a full disk, two runs at once, SIGKILL, orphaned workers."""

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from processes import alive, descendants, wait_until
from vae_apps.errors import UserError


@pytest.fixture(scope="module")
def many_images(tmp_path_factory, digits):
    folder = tmp_path_factory.mktemp("many") / "in"
    for i, image in enumerate(np.tile(digits.test.x, (9, 1, 1, 1))[:3000]):
        sub = folder / f"{i // 500}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.round(image[..., 0] * 255).astype("uint8")).save(sub / f"{i:04d}.png")
    return folder


def _leftovers(root):
    return [p for p in root.rglob("*") if p.name.startswith(".") or ".tmp" in p.name]


def _outputs(root):
    return [p for p in root.rglob("*.png") if not p.name.startswith(".")]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_full_disk_stops_the_job_in_one_line_and_a_rerun_completes(denoiser, noisy_folder, tmp_path,
                                                                      monkeypatch, workers):
    from vae_apps.denoising.folders import denoise_folder

    inp, _ = noisy_folder
    out = tmp_path / "out"
    original = Image.Image.save
    flag = tmp_path / "disk_is_full"
    flag.write_text("")

    def save(self, fp, *args, **kwargs):
        if flag.exists() and len(list(out.rglob("*.png"))) >= 5:
            open(fp, "wb").write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)  # forked workers inherit it
    with pytest.raises(UserError, match="the disk is full: stopped after"):
        denoise_folder(denoiser, inp, out, progress=False, workers=workers)
    assert not _leftovers(out)
    flag.unlink()  # space freed
    report = denoise_folder(denoiser, inp, out, progress=False, workers=workers)
    assert report.denoised + len(report.kept) == 24 and len(report.kept) >= 5
    assert "kept" in report.summary() and not _leftovers(out)


def test_two_runs_into_the_same_folder_both_finish_with_complete_outputs(denoiser, many_images,
                                                                         tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vae_apps_cli.cli", "denoise", str(many_images), str(out),
               "--model", str(denoiser)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    for stdout, _ in results:
        assert stdout.startswith("denoised ")
    written = sorted(_outputs(out))
    assert len(written) == 3000 and not _leftovers(out)
    for path in written[::50]:
        with Image.open(path) as image:
            image.load()  # complete and decodable


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_after_sigkill_no_worker_survives_and_a_rerun_finishes_the_rest(denoiser, many_images,
                                                                         tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vae_apps_cli.cli", "denoise", str(many_images), str(out),
               "--model", str(denoiser)]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: len(_outputs(out)) >= 200, timeout=60)
    workers = descendants(run.pid)
    assert workers, "the command had no worker process"
    run.send_signal(signal.SIGKILL)
    run.wait()
    # no orphan left behind: each worker notices its parent is gone and exits
    assert wait_until(lambda: not [w for w in workers if alive(w)], timeout=30)
    finished = len(_outputs(out))
    assert finished < 3000
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"kept {finished} existing outputs" in rerun.stdout
    assert len(_outputs(out)) == 3000 and not _leftovers(out)


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    from vae_apps.io.files import remove_stale_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f".img.{dead}-0123456789ab.tmp.png"
    live = tmp_path / f".img.{os.getpid()}-0123456789ab.tmp.png"
    mine = tmp_path / ".img.notours.tmp.png"
    for path in (stale, live, mine):
        path.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path) == 1
    assert not stale.exists() and live.exists() and mine.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_zombie_writers_temporary_is_stale(tmp_path):
    # A killed run's workers can stay zombies (nothing reaps them in some containers): the
    # rerun after a SIGKILL found one's temporary file kept as if its writer still ran.
    from vae_apps.io.files import remove_stale_temporaries

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        assert wait_until(lambda: not alive(child.pid), timeout=30)  # exited, not yet reaped
        stale = tmp_path / f".img.{child.pid}-0123456789ab.tmp.png"
        stale.write_bytes(b"x")
        assert remove_stale_temporaries(tmp_path) == 1 and not stale.exists()
    finally:
        child.wait()
