"""Training runs: best epoch kept, divergence, Ctrl-C, SIGKILL and resume (vae_apps/training/)."""

import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from processes import wait_until


def test_small_data_sets_get_enough_updates_and_large_ones_keep_the_defaults():
    from vae_apps.training.small_images import SmallImageConfig

    config = SmallImageConfig()
    training_defaults, MIN_UPDATES, MAX_EPOCHS = config.for_images, config.min_updates, config.max_epochs
    mnist = training_defaults(54_000)
    assert (mnist["epochs"], mnist["batch_size"]) == (6, 128)  # the tuned MNIST recipe
    assert mnist["learning_rate"] == config.learning_rate
    for n in (1_298, 4_999, 5_000, 20_000):  # digits' training split, ..., a mid-sized set
        settings = training_defaults(n)
        updates = settings["epochs"] * -(-n // settings["batch_size"])
        assert MIN_UPDATES <= updates < MIN_UPDATES + -(-n // settings["batch_size"])
    assert training_defaults(1_617)["batch_size"] == 32
    assert training_defaults(100)["epochs"] == MAX_EPOCHS  # tiny sets: capped
    assert training_defaults(1_617, batch_size=256)["batch_size"] == 256  # the user's batch
    assert training_defaults(1_617, batch_size=256)["epochs"] == MAX_EPOCHS


def test_the_labeller_sees_each_image_often_on_small_sets_and_at_most_a_million_times_in_all():
    from vae_apps.labelling.train import LABELLER

    labeller_epochs = LABELLER.epochs_for

    assert labeller_epochs(10) == 150 and labeller_epochs(1797) == 105 and labeller_epochs(4800) == 39
    assert labeller_epochs(20_000) == 20                       # at least 20 epochs
    assert labeller_epochs(70_000) == 14                       # MNIST: 980,000 presentations
    for n in (50_000, 70_000, 200_000, 1_000_000):
        assert n * labeller_epochs(n) <= 1_000_000
    assert labeller_epochs(3_000_000) == 1                     # always at least one pass


def test_the_colour_vae_gets_about_the_same_time_at_every_image_size():
    from vae_apps.generation.train import COLOUR_IMAGES

    epochs = COLOUR_IMAGES.epochs_for
    assert epochs(10_000) == 18                               # 180,000 presentations at 64 px
    assert epochs(10_000, image_size=32) == 36                # half the side: twice as many
    assert epochs(49_500, image_size=32) == 7                 # CIFAR-10: 50,000 less 500 held out
    assert epochs(10_000, image_size=128) == 9
    assert epochs(100) == COLOUR_IMAGES.max_epochs and epochs(10**7) == COLOUR_IMAGES.min_epochs


def test_diverging_training_names_epoch_and_step_and_keeps_the_last_good_model(digits, tmp_path):
    from vae_apps.loading import load_vae
    from vae_apps.training.callbacks import TrainingDiverged
    from vae_apps.training.loop import train_vae

    class Explode(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.model.optimizer.learning_rate.assign(1e12)

    out = tmp_path / "m.keras"
    with pytest.raises(TrainingDiverged, match=r"epoch 2, step \d+"):
        train_vae(digits.train.x, digits.test.x, epochs=3, batch_size=64, out=out, verbose=0,
                  callbacks=[Explode()], filters=(8,), hidden_units=(16,), latent_dim=4)
    model = load_vae(out)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]


def _train_command(tmp_path, epochs, extra=()):
    return [sys.executable, "-m", "vae_apps_cli.cli", "train", "digits", "--epochs", str(epochs),
            "--batch-size", "8", "--filters", "8,16", "--hidden-units", "32",
            "--out", str(tmp_path / "m.keras"), *extra]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_continues_from_the_last_finished_epoch(tmp_path):
    backup = tmp_path / "backup"
    cmd = _train_command(tmp_path, 3, ["--resume", str(backup)])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    # The progress line of epoch 1 comes after its end-of-epoch backup: kill there.
    for line in proc.stdout:
        if line.startswith("train: epoch 1/3 done"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert any(backup.rglob("*")), "the backup survives a kill"
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    epochs = [line.split()[2] for line in resumed.stderr.splitlines()
              if line.startswith("train: epoch ") and " done " in line]
    assert epochs and epochs[0] == "2/3" and epochs[-1] == "3/3"
    assert "trained" in resumed.stdout and not backup.exists()  # removed after a clean finish
    from vae_apps.io.data import load_data
    from vae_apps.generation.likelihoods import elbo_terms
    from vae_apps.loading import load_vae

    test = load_data("digits").test.x
    resumed_elbo = elbo_terms(load_vae(tmp_path / "m.keras"), test)["negative_elbo"]
    straight = tmp_path / "straight"
    subprocess.run(_train_command(straight, 3), capture_output=True, check=True, timeout=600)
    straight_elbo = elbo_terms(load_vae(straight / "m.keras"), test)["negative_elbo"]
    assert np.isfinite(resumed_elbo) and resumed_elbo < 1.05 * straight_elbo


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_the_best_model(tmp_path):
    cmd = _train_command(tmp_path, 200)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: (tmp_path / ".m.best.keras").exists() or (tmp_path / "m.keras").exists(),
                      timeout=120)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted; best model so far written to" in out
    assert "Traceback" not in err
    from vae_apps.loading import load_vae

    assert load_vae(tmp_path / "m.keras").latent_dim == 32


def test_a_checkpoint_that_cannot_be_written_keeps_the_previous_best(digits, tmp_path, monkeypatch, caplog):
    import errno

    from vae_apps.loading import load_vae
    from vae_apps.training.loop import train_vae

    original = keras.Model.save
    calls = []

    def save_then_fill_the_disk(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 1:  # the first checkpoint is written, later ones hit a full disk
            open(path, "wb").write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", save_then_fill_the_disk)
    out = tmp_path / "m.keras"
    result = train_vae(digits.train.x[:200], digits.test.x[:50], epochs=3, batch_size=64,
                       out=out, verbose=0, filters=(8, 16), hidden_units=(32,), latent_dim=4)
    assert result.epochs_run == 3 and len(calls) >= 2
    assert "could not write the checkpoint" in caplog.text and "disk full" in caplog.text
    assert load_vae(out).latent_dim == 4  # the first epoch's model, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gmm.npz", "m.keras"]  # no partial files


SMALL = dict(filters=(8,), hidden_units=(16,), latent_dim=4)


def test_cosine_schedule_warms_up_then_decays_to_one_percent():
    from vae_apps.errors import UserError
    from vae_apps.training.schedule import learning_rate_schedule

    schedule = learning_rate_schedule(2e-3, "cosine", steps=100, warmup_steps=10)
    lr = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    assert lr[0] == pytest.approx(2e-5, rel=0.01)  # warm-up starts at 1 %
    assert lr[0] < lr[1] < lr[2] == pytest.approx(2e-3)  # linear rise to the peak
    assert lr[2] > lr[3] > lr[4] == pytest.approx(2e-5, rel=0.01)  # cosine back to 1 %
    assert learning_rate_schedule(1e-3, "constant", steps=100) == 1e-3
    with pytest.raises(UserError, match="--schedule"):
        learning_rate_schedule(1e-3, "linear", steps=100)


def test_mixed_precision_trains_in_bfloat16_and_returns_a_float32_model(digits, tmp_path):
    from vae_apps.loading import load_vae
    from vae_apps.training.loop import train_vae

    seen = []

    class Policy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.model.decoder.layers[-1].compute_dtype)

    out = tmp_path / "m.keras"
    result = train_vae(digits.train.x[:256], digits.test.x[:64], epochs=2, batch_size=64,
                       precision="mixed", schedule="cosine", warmup_steps=3, out=out, verbose=0,
                       callbacks=[Policy()], **SMALL)
    assert set(seen) == {"bfloat16"}
    assert result.model.dtype_policy.name == "float32"
    loaded = load_vae(out)
    assert loaded.dtype_policy.name == "float32"
    z_mean, _ = result.model.encode(digits.test.x[:8])
    assert z_mean.dtype == np.float32
    np.testing.assert_allclose(loaded.encode(digits.test.x[:8])[0], z_mean, atol=1e-6)
    assert np.isfinite(result.history["loss"]).all()


def test_early_stopping_stops_and_keeps_the_best_epochs_weights(digits):
    from vae_apps.training.loop import train_vae

    weights = []

    class Spoil(keras.callbacks.Callback):
        """From epoch 3 on, every epoch starts from scrambled weights: validation worsens."""

        def on_epoch_begin(self, epoch, logs=None):
            if epoch >= 2:
                rng = np.random.default_rng(epoch)
                self.model.set_weights([rng.permutation(w.ravel()).reshape(w.shape)
                                        for w in self.model.get_weights()])

        def on_epoch_end(self, epoch, logs=None):
            weights.append(self.model.get_weights())

    result = train_vae(digits.train.x[:512], digits.test.x[:128], epochs=20, batch_size=64,
                       early_stopping=2, verbose=0, callbacks=[Spoil()], seed=1, **SMALL)
    val = result.history["val_loss"]
    assert len(val) < 20  # stopped early
    best = int(np.argmin(val))
    assert best < 2
    for kept, at_best in zip(result.model.get_weights(), weights[best]):
        np.testing.assert_array_equal(kept, at_best)
