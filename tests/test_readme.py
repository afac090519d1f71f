"""README's and the job pages' commands, run as written (on small data, one epoch), so
the documents cannot drift from the code: every `vae-apps` line of their shell blocks
and README's Python API snippet."""

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vae_apps_cli.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
JOB_PAGES = ("docs/denoising.md", "docs/labelling.md", "docs/generation.md")


def _section(text, title):
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end > 0 else None]


def _blocks(section, language):
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def _commands():
    lines = []
    for page in ("README.md",) + JOB_PAGES:
        for block in _blocks((ROOT / page).read_text(encoding="utf-8"), "bash"):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].strip()
                # The MNIST lines need ../shared and take an hour: benchmarks, not tests.
                if line.startswith("vae-apps ") and "mnist" not in line and line not in lines:
                    lines.append(line)
    return lines


def _save(pixels, path):
    u8 = np.round(np.clip(pixels, 0, 1) * 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(u8[..., 0] if u8.shape[-1] == 1 else u8).save(path)


@pytest.fixture
def workspace(tmp_path, monkeypatch, digits):
    """The folders README's commands name, made small."""
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import bundled_photo

    photos = [bundled_photo("camera")[200:296, 180:300], bundled_photo("coffee")[100:196, 200:320]]
    for i, photo in enumerate(photos):
        noisy = parse_noise("gaussian:0.1").apply(photo[None], seed=i)[0]
        for folder in ("NOISY_PHOTOS", "NOISY", "noisy"):
            _save(noisy, tmp_path / folder / f"p{i}.png")
        _save(photo, tmp_path / "MY_CLEAN_PHOTOS" / f"p{i}.png")
    _save(photos[0], tmp_path / "a.jpg")
    _save(photos[1], tmp_path / "b.png")
    _save(photos[1], tmp_path / "noisy.jpg")
    noisy_digits = parse_noise("gaussian:0.2").apply(digits.test.x[:40], seed=0)
    rows = ["path,label"]
    for i, (image, label) in enumerate(zip(digits.test.x[:40], digits.test.y[:40])):
        _save(image, tmp_path / "MY_CLEAN_IMAGES" / f"{i}.png")
        _save(noisy_digits[i], tmp_path / "NOISY_DIR" / f"{i}.png")
        _save(image, tmp_path / "MY_IMAGES" / str(label) / f"{i}.png")
        if i % 4 == 0:
            rows.append(f"{label}/{i}.png,{label}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    # colour "faces" of several sizes, some held out, two ends of a walk, a hair-colour CSV
    from skimage import data

    rng = np.random.default_rng(0)
    photos = [data.astronaut(), data.coffee(), data.chelsea()]
    hair = ["path,hair"]
    for i in range(24):
        photo, side = photos[i % 3], int(rng.integers(64, 100))
        top, left = rng.integers(0, 300, size=2)
        crop = photo[top:top + side, left:left + side].astype("float32") / 255
        folder = "HELD_OUT" if i >= 20 else "FACES"
        _save(crop, tmp_path / folder / f"{i}.png")
        if folder == "FACES":
            hair.append(f"FACES/{i}.png,{'blue' if i % 2 else 'black'}")
    _save(photos[0][:80, :80].astype("float32") / 255, tmp_path / "A.png")
    _save(photos[1][:80, :80].astype("float32") / 255, tmp_path / "B.png")
    (tmp_path / "hair.csv").write_text("\n".join(hair) + "\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_commands_run_as_written(workspace, capsys):
    commands = _commands()
    assert len(commands) >= 12
    for line in commands:
        argv = shlex.split(line)[1:]
        if argv[0] in ("train", "label"):
            argv += ["--epochs", "1"]  # the same command, one epoch
            if "--patch-size" in argv:
                argv += ["--patches-per-image", "8", "--batch-size", "8"]
        if argv[0] == "evaluate":
            argv += ["--iwae-samples", "8"]
        assert main(argv) == 0, line
    out = capsys.readouterr().out
    assert "denoised 2 images, skipped 0, failed 0" in out
    for written in ("CLEAN/p0.png", "OUT/p1.png", "OUT_GREY/p0.png", "OUT_MINE/p1.png", "mine.keras", "before_after.png", "digits.keras",
                    "samples.png", "map.png", "codes.csv", "denoiser.keras", "CLEAN_OUT/0.png",
                    "predictions.csv", "latent_map.png", "faces.keras", "faces.png", "walk.gif",
                    "edits.png", "recon.png"):
        assert (workspace / written).is_file(), written


def test_readme_python_api_runs_as_written(workspace):
    snippet = _blocks(_section(README.read_text(encoding="utf-8"), "## Python API"), "python")[0]
    snippet = re.sub(r"epochs=\d+", "epochs=1", snippet)
    namespace = {}
    exec(compile(snippet, "README.md (Python API)", "exec"), namespace)
    assert (workspace / "digits.keras").is_file() and (workspace / "clean.jpg").is_file()
    assert (workspace / "mine.keras").is_file() and namespace["report"].denoised == 2
