"""Bad input never costs data: each case built in a temporary folder, the exact behaviour checked."""

import errno
import hashlib
import os

import keras
import numpy as np
import pytest
from PIL import Image

from vae_apps_cli.cli import main
from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path


def _snapshot(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _one_line_error(capsys, code, expected_code=2):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expected_code
    assert err and err[-1].startswith("vae-apps ") and "error:" in err[-1]
    assert not any("Traceback" in line for line in err)
    return err[-1]


@pytest.fixture
def messy_folder(tmp_path):
    root = tmp_path / "in"
    (root / "sub dir").mkdir(parents=True)
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (8, 8), dtype="uint8")
    Image.fromarray(grey).save(root / "good.png")
    Image.fromarray(grey).save(root / "sub dir" / "ünï code.png")
    Image.fromarray((grey.astype("uint16") * 257)).save(root / "sixteen.png")
    Image.fromarray(np.dstack([grey] * 3 + [grey])).save(root / "alpha.png")
    Image.fromarray(np.dstack([grey] * 3)).quantize(8).save(root / "palette.png")
    Image.fromarray(np.dstack([grey] * 3)).convert("CMYK").save(root / "cmyk.jpg")
    exif = Image.new("L", (8, 8)).getexif()
    exif[0x0112] = 6
    Image.fromarray(grey).save(root / "rotated.jpg", exif=exif)
    good = (root / "good.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 2])
    jpeg = (root / "rotated.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    (root / "empty.png").write_bytes(b"")
    (root / "text.png").write_text("this is not a picture")
    (root / "binary.png").write_bytes(bytes(range(256)) * 4)
    (root / ".hidden.png").write_bytes(good)
    os.symlink(root, root / "sub dir" / "loop")
    return root


BAD_FILES = {"truncated.png", "truncated.jpg", "empty.png", "text.png", "binary.png"}
GOOD_FILES = {"good.png", "sub dir/ünï code.png", "sixteen.png", "alpha.png", "palette.png",
              "cmyk.jpg", "rotated.jpg"}


def test_messy_folder_trains_on_the_good_files_and_names_the_bad(messy_folder, tmp_path, capsys):
    from vae_apps.io.data import load_data

    before = _snapshot(messy_folder)
    data = load_data(messy_folder, image_size=(8, 8), channels=1)
    assert set(data.train.names) == GOOD_FILES
    assert {name for name, _ in data.train.skipped} == BAD_FILES
    assert _snapshot(messy_folder) == before


def test_messy_folder_denoise_skips_bad_files_counts_them_and_keeps_inputs(
        messy_folder, trained_digits_model, tmp_path, capsys):
    before = _snapshot(messy_folder)
    out = tmp_path / "out"
    assert main(["denoise", str(messy_folder), str(out), "--model", str(trained_digits_model)]) == 0
    captured = capsys.readouterr()
    assert f"denoised {len(GOOD_FILES)} images, skipped {len(BAD_FILES)}, failed 0" in captured.out
    for name in BAD_FILES:
        assert name in captured.err
    assert _snapshot(messy_folder) == before
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == GOOD_FILES  # no partial or temporary files
    with Image.open(out / "sixteen.png") as img:
        assert img.mode == "I;16"
    with Image.open(out / "rotated.jpg") as a, Image.open(messy_folder / "rotated.jpg") as b:
        assert a.size == b.size


def test_decompression_bomb_is_skipped_with_a_clear_reason(tmp_path, monkeypatch, caplog):
    import vae_apps.io.images as images
    from vae_apps.io.data import load_data

    Image.new("L", (64, 64)).save(tmp_path / "huge.png")
    Image.new("L", (8, 8)).save(tmp_path / "small.png")
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 1000)
    data = load_data(tmp_path)
    assert data.train.names == ["small.png"]
    assert data.train.skipped == [("huge.png", "image too large: 64x64 pixels is over the 1,000-pixel "
                                               "limit (decompression-bomb guard)")]


@pytest.mark.parametrize("files", [{}, {"notes.txt": "x"}])
def test_empty_or_imageless_folders_are_an_error(tmp_path, capsys, files):
    root = tmp_path / "data"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    line = _one_line_error(capsys, main(["train", str(root), "--out", str(tmp_path / "m.keras")]))
    assert "no readable images found" in line
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.parametrize("arrays, message", [
    ({"images": np.zeros((2, 4, 4))}, "needs the keys"),
    ({"x_train": np.zeros((2, 4, 4))}, "no x_test"),
    ({"x": np.array([["a"]])}, "dtype <U1"),
    ({"x": np.full((2, 4, 4), np.inf)}, "NaN or infinite"),
    ({"x": np.full((2, 4, 4), 256.0)}, "go up to 256"),
    ({"x": np.full((2, 4, 4), -0.5)}, "negative"),
    ({"x": np.zeros((2, 4, 4, 4, 4))}, "shape"),
    ({"x": np.array([{"evil": 1}], dtype=object)}, "Python objects"),
])
def test_bad_arrays_end_in_one_line(tmp_path, capsys, arrays, message):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    before = path.read_bytes()
    line = _one_line_error(capsys, main(["train", str(path), "--out", str(tmp_path / "m.keras")]))
    assert message in line and str(path) in line
    assert path.read_bytes() == before


def _bad_model(tmp_path, kind):
    path = tmp_path / f"{kind}.keras"
    if kind == "text":
        path.write_text("not a model")
    elif kind == "truncated":
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "lambda":
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Lambda(lambda x: x * 2)])
        model.save(path)
    elif kind == "other_class":
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(path)
    return path


@pytest.mark.parametrize("kind, message", [
    ("text", "not a Keras model file"),
    ("truncated", "not a Keras model file"),
    ("lambda", "holds a Sequential, not a vae_apps VAE"),
    ("other_class", "holds a Sequential, not a vae_apps VAE"),
])
def test_bad_model_files_are_refused_in_one_line(tmp_path, capsys, kind, message):
    path = _bad_model(tmp_path, kind)
    line = _one_line_error(capsys, main(["encode", "digits", "--model", str(path),
                                         "--out", str(tmp_path / "c.npz")]))
    assert message in line
    assert not (tmp_path / "c.npz").exists()


def test_model_and_data_shapes_must_match(trained_digits_model, tmp_path, capsys):
    np.savez(tmp_path / "big.npz", x=np.zeros((3, 12, 12), "uint8"))
    line = _one_line_error(capsys, main(["encode", str(tmp_path / "big.npz"), "--model",
                                         str(trained_digits_model), "--out", str(tmp_path / "c.npz")]))
    assert "(8, 8, 1)" in line and "(12, 12, 1)" in line


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(UserError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_never_replaced_without_overwrite(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("keep")
    with pytest.raises(UserError, match="--overwrite"):
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_text("new")
    assert target.read_text() == "keep" and len(list(tmp_path.iterdir())) == 1


def test_unwritable_output_location_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    line = _one_line_error(capsys, main(["train", "digits", "--epochs", "1",
                                         "--out", str(blocker / "m.keras")]))
    assert "file" in line


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(UserError):
        main(["--debug", "train", str(tmp_path / "missing"), "--out", str(tmp_path / "m.keras")])


def test_absurd_learning_rate_from_the_command_line(tmp_path, capsys):
    line = _one_line_error(capsys, main(["train", "digits", "--epochs", "2", "--learning-rate", "1e12",
                                         "--out", str(tmp_path / "m.keras")]))
    assert "diverged" in line and "epoch 1, step" in line
    assert not (tmp_path / "m.keras").exists()


def test_a_read_only_location_is_a_clear_error_even_as_root(tmp_path):
    # Root ignores file modes, so the refusal is simulated where the writer opens the file.
    with pytest.raises(UserError, match="cannot write here \\(Permission denied\\)"):
        with atomic_path(tmp_path / "out.png") as tmp:
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp))
    assert list(tmp_path.iterdir()) == []
