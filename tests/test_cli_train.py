import os
import subprocess
import sys

import numpy as np
import pytest

from vae_apps_cli.cli import main


def test_train_then_load_in_a_new_process_and_encode(tmp_path, capsys):
    out = tmp_path / "m.keras"
    code = main(["train", "digits", "--epochs", "2", "--out", str(out), "--filters", "8,16",
                 "--hidden-units", "32", "--latent-dim", "6"])
    assert code == 0 and out.is_file()
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert "trained 2 epochs" in summary and "test -ELBO" in summary and str(out) in summary
    assert not list(tmp_path.glob(".*"))  # no leftover checkpoint or temporary file
    script = ("import keras, vae_apps; from vae_apps.io.data import load_data; "
              f"m = keras.saving.load_model({str(out)!r}); "
              "print(m.encode(load_data('digits').test.x)[0].shape)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "(355, 6)"


def test_train_refuses_to_overwrite_without_the_flag(tmp_path, capsys):
    out = tmp_path / "m.keras"
    out.write_bytes(b"keep me")
    assert main(["train", "digits", "--epochs", "1", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"


def test_denoising_training_reports_psnr(tmp_path, capsys):
    out = tmp_path / "d.keras"
    assert main(["train", "digits", "--epochs", "1", "--noise", "gaussian:0.3", "--out", str(out),
                 "--filters", "8", "--hidden-units", "16"]) == 0
    assert "test PSNR" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_encode_writes_codes_labels_and_names(trained_digits_model, tmp_path, suffix):
    out = tmp_path / f"codes{suffix}"
    assert main(["encode", "digits", "--model", str(trained_digits_model), "--out", str(out)]) == 0
    if suffix == ".npz":
        codes = np.load(out, allow_pickle=False)
        assert codes["z_mean"].shape == codes["z_log_var"].shape == (1797, 8)
        assert codes["labels"].shape == (1797,)
        assert sorted(codes["names"].astype(int)) == list(range(1797))
    else:
        lines = out.read_text().splitlines()
        assert len(lines) == 1798 and lines[0].startswith("name,label,z_mean_0")


def test_user_mistakes_end_in_one_line_and_exit_2(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nothing.npz"), "--out", str(tmp_path / "m.keras")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file or folder" in err and "Traceback" not in err
    assert main(["encode", "digits", "--model", str(tmp_path / "none.keras"),
                 "--out", str(tmp_path / "c.npz")]) == 2
    assert "no such model file" in capsys.readouterr().err


def test_help_lists_every_subcommand():
    result = subprocess.run([sys.executable, "-m", "vae_apps_cli.cli", "--help"], capture_output=True,
                            text=True, check=True)
    for command in ("train", "encode", "denoise", "label", "generate", "evaluate"):
        assert command in result.stdout
    check = subprocess.run([sys.executable, "-c", "import sys, vae_apps_cli.cli; vae_apps_cli.cli.build_parser(); "
                            "print('tensorflow' in sys.modules)"], capture_output=True, text=True)
    assert check.stdout.strip() == "False"


def test_denoise_help_describes_the_shipped_presets():
    from vae_apps.denoising.presets import PRESETS

    result = subprocess.run([sys.executable, "-m", "vae_apps_cli.cli", "denoise", "--help"],
                            capture_output=True, text=True, check=True)
    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    for name, preset in PRESETS.items():
        assert f"{name} ({preset.description})" in help_text.replace("- ", "-")


def test_logdir_gets_tensorboard_event_files(tmp_path):
    logs = tmp_path / "logs"
    assert main(["train", "digits", "--epochs", "1", "--filters", "8", "--hidden-units", "16",
                 "--logdir", str(logs), "--out", str(tmp_path / "m.keras")]) == 0
    assert list(logs.rglob("events.out.tfevents.*"))


def test_the_deferred_keras_import_is_an_explicit_switch():
    code = "import sys, vae_apps; print('keras' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "VAE_APPS_DEFER_KERAS"}
    eager = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    deferred = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**env, "VAE_APPS_DEFER_KERAS": "1"})
    assert eager.stdout.strip() == "True" and deferred.stdout.strip() == "False"


def test_every_cli_choice_list_equals_the_library_constant_it_mirrors():
    from vae_apps.scale.distribute import STRATEGIES
    from vae_apps.hardware import PRECISIONS
    from vae_apps.labelling.estimator import METHODS
    from vae_apps.labelling.pipeline import LABEL_METHODS, SEMI_SUPERVISED
    from vae_apps.denoising.presets import DEFAULT_DENOISER
    from vae_apps.models.base import LIKELIHOODS
    from vae_apps.models.networks import ARCHITECTURES
    from vae_apps.training.schedule import SCHEDULES
    from vae_apps_cli.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices

    def choices(command, option):
        action = next(a for a in commands[command]._actions if option in a.option_strings)
        return set(action.choices)

    assert choices("train", "--architecture") == set(ARCHITECTURES)
    assert choices("train", "--likelihood") == set(LIKELIHOODS)
    assert choices("train", "--precision") == set(PRECISIONS)
    assert choices("train", "--schedule") == set(SCHEDULES)
    assert choices("train", "--distribute") == set(STRATEGIES)
    assert choices("label", "--method") == set(LABEL_METHODS) == {SEMI_SUPERVISED, *METHODS}
    denoise_model = next(a for a in commands["denoise"]._actions if "--model" in a.option_strings)
    assert denoise_model.default == DEFAULT_DENOISER


@pytest.mark.parametrize("flags, flag, mode", [
    (["--patch-size", "64", "--latent-dim", "8"], "--latent-dim", "full-resolution denoiser"),
    (["--patch-size", "64", "--validation-split", "0.2"], "--validation-split", "full-resolution denoiser"),
    (["--patch-size", "64", "--image-size", "32x32"], "--image-size", "full-resolution denoiser"),
    (["--labels", "labels.csv", "--noise", "gaussian:0.3"], "--noise", "semi-supervised labeller"),
    (["--labels", "labels.csv", "--resume", "backup"], "--resume", "semi-supervised labeller"),
    (["--labels", "labels.csv", "--logdir", "logs"], "--logdir", "semi-supervised labeller"),
    (["--patches-per-image", "8"], "--patches-per-image", "small images"),
    (["--noisy-only"], "--noisy-only", "--patch-size"),
])
def test_a_flag_the_chosen_training_mode_does_not_read_is_an_error_naming_both(
        flags, flag, mode, tmp_path, capsys):
    out = tmp_path / "m.keras"
    assert main(["train", "digits", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and flag in err and mode in err and "Traceback" not in err
    assert not out.exists()


def test_train_help_states_the_defaults_the_library_uses(capsys, monkeypatch):
    from vae_apps.denoising.train import PATCH_DENOISER
    from vae_apps.labelling.train import LABELLER
    from vae_apps.training.small_images import SmallImageConfig

    small = SmallImageConfig()
    monkeypatch.setenv("COLUMNS", "1000")  # no line breaks inside the phrases
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in (f"default {small.epochs}", f"{small.min_updates:,} updates",
                   f"{PATCH_DENOISER.epochs} with --patch-size", f"default {small.batch_size}",
                   f"{PATCH_DENOISER.batch_size} with --patch-size",
                   f"{LABELLER.batch_size} with --labels", f"default {small.learning_rate:g}",
                   f"{PATCH_DENOISER.learning_rate:g} with --patch-size",
                   f"gaussian:0-0.2 (default with --patch-size: {PATCH_DENOISER.noise}",
                   f"default {PATCH_DENOISER.patches_per_image}",
                   f"or {small.denoiser_beta} with --noise"):
        assert phrase in text, phrase
