"""tf.distribute: a mirrored step over 2 replicas equals a one-device step.

Each check runs in a subprocess: the CPU can be split into logical devices only
before TensorFlow runs its first op.
"""

import json
import subprocess
import sys

import keras
import pytest

from vae_apps.scale.distribute import make_strategy
from vae_apps.errors import UserError

ONE_STEP = r"""
import json
import keras
import numpy as np
from sklearn.datasets import load_digits

from vae_apps.scale.distribute import make_strategy
from vae_apps.models.vae import VAE
from vae_apps.training.loop import train_vae

strategy = make_strategy("mirrored", 2)
# The sampling noise is the only random input; zero it so both runs see the same z
# (per replica, a seed generator would draw other numbers than for the whole batch).
keras.random.normal = lambda shape, *args, **kwargs: keras.ops.zeros(shape)
x = (load_digits().images[:64] / 16.0).astype("float32")[..., None]


def one_step(strategy, start):
    with strategy.scope() if strategy else keras.name_scope("single"):
        model = VAE((8, 8, 1), latent_dim=4, filters=(8,), hidden_units=(16,), seed=0)
        if start is not None:
            model.set_weights(start)
        # SGD: a wrongly scaled gradient changes the step (Adam's first step would not).
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    start = [w.numpy() for w in model.weights]
    train_vae(x, model=model, epochs=1, batch_size=64, strategy=strategy, verbose=0)
    return start, [w.numpy() for w in model.weights]


start, single = one_step(None, None)
_, mirrored = one_step(strategy, start)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "max_step": max(float(np.abs(a - b).max()) for a, b in zip(single, start)),
    "max_difference": max(float(np.abs(a - b).max()) for a, b in zip(single, mirrored)),
}))
"""


def run_python(code, tmp_path):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_two_replica_step_equals_single_device_step(tmp_path):
    result = json.loads(run_python(ONE_STEP, tmp_path).strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["max_step"] > 1e-3  # the step is large enough for the comparison to mean something
    assert result["max_difference"] < 1e-5


def test_cli_trains_resumes_and_saves_under_mirrored_strategy(tmp_path):
    out = tmp_path / "m.keras"
    command = [sys.executable, "-m", "vae_apps_cli.cli", "train", "digits", "--epochs", "2",
               "--distribute", "mirrored", "--devices", "2", "--out", str(out),
               "--resume", str(tmp_path / "backup"), "--latent-dim", "4", "--filters", "8",
               "--hidden-units", "16"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "trained 2 epochs" in proc.stdout
    assert not (tmp_path / "backup").exists()  # BackupAndRestore cleans up after a full run
    model = keras.saving.load_model(out)  # loads without any strategy
    assert model.optimizer.iterations.numpy() > 0


def test_devices_without_strategy_is_refused():
    with pytest.raises(UserError, match="--devices needs --distribute"):
        make_strategy(None, 2)
