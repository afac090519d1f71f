"""The Ray engine gives the local engine's outputs: files, warnings, summary, predictions."""

import csv
import os
import sys

import numpy as np
import pytest
from PIL import Image

from processes import alive, descendants, wait_until
from vae_apps_cli.cli import main
from vae_apps.errors import UserError

# CI installs the ray extra and must run these; elsewhere they need `pip install ".[ray]"`.
ray = pytest.importorskip("ray") if not os.environ.get("CI") else __import__("ray")


@pytest.fixture(scope="module")
def folder_200(digits, tmp_path_factory):
    """200 noisy digit images in sub-folders, several modes and formats, one corrupt file."""
    from vae_apps.denoising.noise import parse_noise

    root = tmp_path_factory.mktemp("ray") / "in"
    x = np.concatenate([digits.train.x, digits.test.x])[:199]
    noisy = parse_noise("gaussian:0.3").apply(x, seed=0)
    for i, img in enumerate(noisy):
        grey = Image.fromarray(np.round(img[..., 0] * 255).astype("uint8")).resize((8 + i % 3, 8))
        mode, ext = [("L", ".png"), ("RGB", ".png"), ("L", ".jpg"), ("RGBA", ".png")][i % 4]
        folder = root / f"class{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        grey.convert(mode).save(folder / f"{i:03d}{ext}")
    (root / "class0" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


def _warnings(text):
    return sorted(line for line in text.splitlines() if line.startswith("warning:"))


def _summary(text):
    # "denoised N images, skipped S, failed F in T s (R images/s, M MP/s) -> OUT": the counts.
    line = text.strip().splitlines()[-1]
    return line.split(" in ")[0]


def test_ray_denoise_equals_local(denoiser, folder_200, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(folder_200.parent)  # a relative IN, as users type it
    outputs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine
        assert main(["denoise", folder_200.name, str(out), "--model", str(denoiser),
                     "--engine", engine, "--batch-size", "64"]) == 0
        captured = capsys.readouterr()
        outputs[engine] = (out, _warnings(captured.err), _summary(captured.out))
    (local, local_warnings, local_summary), (remote, ray_warnings, ray_summary) = outputs.values()
    assert local_summary == ray_summary == "denoised 199 images, skipped 1, failed 0"
    assert local_warnings == ray_warnings and any("broken.png" in w for w in ray_warnings)
    local_files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    ray_files = sorted(p.relative_to(remote) for p in remote.rglob("*") if p.is_file())
    assert local_files == ray_files and len(local_files) == 199
    for relative in local_files:
        with Image.open(local / relative) as a, Image.open(remote / relative) as b:
            assert (a.format, a.size, a.mode) == (b.format, b.size, b.mode)
            difference = np.abs(np.asarray(a, "int16") - np.asarray(b, "int16")).max()
            assert difference <= 1, relative


def test_ray_label_equals_local(trained_digits_model, digits, tmp_path, capsys):
    data = tmp_path / "digits.npz"
    np.savez(data, x=digits.train.x)
    labels = tmp_path / "labels.csv"
    rows = np.random.default_rng(0).choice(len(digits.train.x), 30, replace=False)
    with open(labels, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "label"])
        writer.writerows((int(i), int(digits.train.y[i])) for i in rows)
    predictions = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.csv"
        assert main(["label", str(data), "--model", str(trained_digits_model), "--labels",
                     str(labels), "--out", str(out), "--engine", engine]) == 0
        predictions[engine] = out.read_text()
    capsys.readouterr()
    assert predictions["local"] == predictions["ray"]
    assert len(predictions["ray"].splitlines()) == len(digits.train.x) + 1


def test_missing_ray_says_how_to_install(monkeypatch):
    from vae_apps.scale.ray_data import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r'pip install "ray\[data\]>=2.40"'):
        import_ray()


def test_ray_denoises_photos_at_full_resolution_like_local(tmp_path, capsys):
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import bundled_photo

    inp = tmp_path / "photos"
    inp.mkdir()
    for i, name in enumerate(("camera", "coffee")):
        noisy = parse_noise("gaussian:0.1").apply(bundled_photo(name)[:120, :150][None], seed=i)[0]
        u8 = np.round(noisy * 255).astype("uint8")
        Image.fromarray(u8[..., 0] if u8.shape[-1] == 1 else u8).save(inp / f"{name}.png")
    for engine in ("local", "ray"):  # the default model: the photo preset
        assert main(["denoise", str(inp), str(tmp_path / engine), "--engine", engine]) == 0
    assert "denoised 2 images, skipped 0, failed 0" in capsys.readouterr().out
    for name in ("camera.png", "coffee.png"):
        with Image.open(tmp_path / "local" / name) as a, Image.open(tmp_path / "ray" / name) as b:
            assert (a.size, a.mode) == (b.size, b.mode)
            assert np.abs(np.asarray(a, "int16") - np.asarray(b, "int16")).max() <= 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_ray_process_outlives_a_killed_command(denoiser, digits, tmp_path):
    import signal
    import subprocess

    inp = tmp_path / "in"
    inp.mkdir()
    for i, image in enumerate(np.tile(digits.test.x, (6, 1, 1, 1))[:2000]):
        Image.fromarray(np.round(image[..., 0] * 255).astype("uint8")).save(inp / f"{i:04d}.png")
    run = subprocess.Popen([sys.executable, "-m", "vae_apps_cli.cli", "denoise", str(inp), str(tmp_path / "out"),
                            "--model", str(denoiser), "--engine", "ray", "--batch-size", "16"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = set()

    def first_outputs():  # Ray's processes appear, then the first outputs
        started.update(descendants(run.pid))
        return list((tmp_path / "out").glob("[0-9]*.png"))

    wait_until(first_outputs, timeout=90, interval=0.2)
    started |= descendants(run.pid)
    assert len(started) > 3, "Ray did not start"
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert wait_until(lambda: not [pid for pid in started if alive(pid)], timeout=60)
