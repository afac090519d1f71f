import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from vae_apps_cli.cli import main
from vae_apps.errors import UserError


def _snapshot(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_folder_round_trip_keeps_paths_sizes_modes_and_formats(denoiser, noisy_folder, tmp_path, capsys):
    inp, ref = noisy_folder
    before = _snapshot(inp)
    out = tmp_path / "out"
    figure = tmp_path / "fig.png"
    assert main(["denoise", str(inp), str(out), "--model", str(denoiser), "--reference", str(ref),
                 "--figure", str(figure)]) == 0
    captured = capsys.readouterr()
    assert "denoised 24 images, skipped 2, failed 0" in captured.out and "PSNR" in captured.out
    assert "corrupt.png" in captured.err and "readme.txt" in captured.err
    assert _snapshot(inp) == before  # inputs untouched
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    expected = sorted(p.relative_to(inp) for p in inp.rglob("*") if p.suffix in (".png", ".jpg")
                      and p.name != "corrupt.png")
    assert written == expected
    for rel in written:
        with Image.open(inp / rel) as a, Image.open(out / rel) as b:
            assert (a.size, a.mode, a.format) == (b.size, b.mode, b.format)
    assert figure.is_file() and Image.open(figure).size[0] > 200


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_processes_write_what_threads_write(denoiser, noisy_folder, tmp_path, workers):
    """A model file read by worker processes, or a loaded model with threads: same files, same report."""
    from vae_apps.denoising.folders import denoise_folder
    from vae_apps.loading import load_vae

    inp, ref = noisy_folder
    threads = denoise_folder(load_vae(denoiser), inp, tmp_path / "threads", reference_dir=ref,
                             progress=False, workers=0)
    processes = denoise_folder(denoiser, inp, tmp_path / "processes", reference_dir=ref,
                               progress=False, workers=workers)
    assert _snapshot(tmp_path / "processes") == _snapshot(tmp_path / "threads")
    assert processes.denoised == threads.denoised == 24
    assert processes.skipped == threads.skipped and len(processes.skipped) == 2
    assert processes.quality == pytest.approx(threads.quality)
    assert [len(v) for v in processes.examples.values()] == [len(v) for v in threads.examples.values()]


def test_command_in_a_fresh_process_is_quiet_and_exits_cleanly(denoiser, noisy_folder, tmp_path):
    # Workers fork before TensorFlow loads, TensorFlow's start-up chatter is hidden,
    # and the quick exit still flushes the summary.
    import subprocess
    import sys

    inp, _ = noisy_folder
    proc = subprocess.run([sys.executable, "-m", "vae_apps_cli.cli", "denoise", str(inp), str(tmp_path / "out"),
                           "--model", str(denoiser)], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert proc.returncode == 0, proc.stderr
    assert "denoised 24 images, skipped 2, failed 0" in proc.stdout
    assert "corrupt.png" in proc.stderr
    assert "absl" not in proc.stderr and "cuda" not in proc.stderr.lower()
    assert len(list((tmp_path / "out").rglob("*.*"))) == 24


def test_denoising_improves_psnr_against_the_references(denoiser, digits, tmp_path, capsys):
    from vae_apps.denoising.noise import parse_noise

    clean = digits.test.x
    np.savez(tmp_path / "clean.npz", x=clean)
    np.savez(tmp_path / "noisy.npz", x=parse_noise("gaussian:0.3").apply(clean, seed=1))
    assert main(["denoise", str(tmp_path / "noisy.npz"), str(tmp_path / "out.npz"), "--model",
                 str(denoiser), "--reference", str(tmp_path / "clean.npz")]) == 0
    line = capsys.readouterr().out
    before, after = (float(v) for v in line.split("PSNR ")[1].split(" dB")[0].split(" -> "))
    assert after > before + 1.0


def test_existing_outputs_are_kept_without_overwrite(denoiser, noisy_folder, tmp_path, capsys):
    inp, _ = noisy_folder
    out = tmp_path / "out"
    out.mkdir()
    (out / "img 0.png").write_bytes(b"mine")
    assert main(["denoise", str(inp), str(out), "--model", str(denoiser)]) == 0
    assert (out / "img 0.png").read_bytes() == b"mine"
    assert "denoised 23 images, kept 1 existing output, skipped 2" in capsys.readouterr().out
    assert main(["denoise", str(inp), str(out), "--model", str(denoiser), "--overwrite"]) == 0
    assert (out / "img 0.png").read_bytes() != b"mine"


@pytest.mark.parametrize("where", ["inside", "same"])
def test_output_inside_the_input_is_refused(denoiser, noisy_folder, where, capsys):
    inp, _ = noisy_folder
    before = _snapshot(inp)
    out = inp / "cleaned" if where == "inside" else inp
    assert main(["denoise", str(inp), str(out), "--model", str(denoiser)]) == 2
    assert "must not be inside the input folder" in capsys.readouterr().err
    assert _snapshot(inp) == before


def test_empty_folder_and_folder_without_images_are_errors(denoiser, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["denoise", str(tmp_path / "empty"), str(tmp_path / "o1"), "--model", str(denoiser)]) == 2
    assert "no image files found" in capsys.readouterr().err
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("x")
    assert main(["denoise", str(tmp_path / "texts"), str(tmp_path / "o2"), "--model", str(denoiser)]) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_is_a_clear_error(denoiser, noisy_folder, tmp_path, capsys):
    inp, _ = noisy_folder
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    assert main(["denoise", str(inp), str(out), "--model", str(denoiser)]) == 2
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_array_files_come_back_as_the_same_kind(denoiser, digits, tmp_path, dtype):
    x = digits.test.x[:50, ..., 0]
    arr = np.round(x * 255).astype("uint8") if dtype == "uint8" else x.astype("float32")
    np.savez(tmp_path / "in.npz", x=arr, y=digits.test.y[:50])
    assert main(["denoise", str(tmp_path / "in.npz"), str(tmp_path / "out.npz"), "--model", str(denoiser)]) == 0
    out = np.load(tmp_path / "out.npz", allow_pickle=False)
    assert out["x"].shape == arr.shape and out["x"].dtype == arr.dtype
    np.testing.assert_array_equal(out["y"], digits.test.y[:50])


def test_model_of_the_wrong_shape_names_both_shapes(denoiser, tmp_path):
    from vae_apps.denoising.arrays import denoise_array_file
    from vae_apps.loading import load_vae

    np.save(tmp_path / "in.npy", np.zeros((3, 5, 5), "uint8"))
    with pytest.raises(UserError, match=r"\(5, 5, 1\).*\(8, 8, 1\)"):
        denoise_array_file(load_vae(denoiser), tmp_path / "in.npy", tmp_path / "out.npy")


def test_ray_engine_on_an_array_file_is_a_clear_error(denoiser, tmp_path, capsys):
    np.save(tmp_path / "in.npy", np.zeros((3, 8, 8), "uint8"))
    assert main(["denoise", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"), "--model",
                 str(denoiser), "--engine", "ray"]) == 2
    assert "--engine ray denoises image folders" in capsys.readouterr().err


def test_the_summary_gives_images_and_megapixels_per_second_with_plurals_right():
    from vae_apps.denoising.folders import DenoiseReport

    one = DenoiseReport(denoised=1, kept=["a.png"], seconds=2.0, pixels=12_000_000).summary()
    assert one.startswith("denoised 1 image, kept 1 existing output, skipped 0, failed 0 in 2.0 s")
    assert "(0.5 images/s, 6 MP/s)" in one
    many = DenoiseReport(denoised=787, seconds=1.0, pixels=787 * 784).summary()
    assert "denoised 787 images" in many and "(787 images/s, 0.617 MP/s)" in many
