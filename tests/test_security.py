"""Hostile model archives, built here (never downloaded): each is refused in one line and
no code runs (the canary file its payload would create stays absent)."""

import json
import zipfile

import keras
import pytest

from vae_apps_cli.cli import main


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    from vae_apps.models.fully_conv import FullyConvVAE

    path = tmp_path_factory.mktemp("genuine") / "fc.keras"
    FullyConvVAE(channels=1, filters=8, latent_channels=4, blocks=(1, 1)).save(path)
    return path


def _rewrite(source, target, config=None, extra=()):
    """Copy a genuine archive, replacing its config and adding entries."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json" and config is not None:
                data = json.dumps(config(json.loads(data))).encode()
            dst.writestr(item, data)
        for name, data in extra:
            dst.writestr(name, data)
    return target


def _canary_payload(canary):
    return {"module": "os", "class_name": "function", "config": "system",
            "registered_name": "system", "build_config": {"args": [f"touch {canary}"]}}


def _hostile(kind, genuine, tmp_path, canary):
    path = tmp_path / f"{kind}.keras"
    if kind == "arbitrary_function":
        return _rewrite(genuine, path, lambda c: {**c, "config": {**c["config"],
                                                                   "seed": _canary_payload(canary)}})
    if kind == "arbitrary_top_level":
        return _rewrite(genuine, path, lambda c: _canary_payload(canary))
    if kind == "enable_unsafe_then_lambda":
        unsafe = {"module": "keras.config", "class_name": "function",
                  "config": "enable_unsafe_deserialization", "registered_name": "function"}
        lam = {"module": "keras.layers", "class_name": "Lambda", "config": {
            "function": {"class_name": "__lambda__", "config": {
                "code": f"__import__('os').system('touch {canary}')"}}}}
        return _rewrite(genuine, path, lambda c: {**c, "config": {**c["config"],
                                                                   "dtype": unsafe, "seed": lam}})
    if kind == "nested_unsafe_load":
        nested = {"module": "keras.saving", "class_name": "function", "config": "load_model",
                  "registered_name": "function", "build_config": {"safe_mode": False}}
        return _rewrite(genuine, path, lambda c: {**c, "compile_config": {"optimizer": nested}})
    if kind == "legacy_h5":
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.save_weights(tmp_path / "w.weights.h5")
        path = tmp_path / "legacy.h5"
        path.write_bytes((tmp_path / "w.weights.h5").read_bytes())
        return path
    if kind == "path_traversal":
        return _rewrite(genuine, path, extra=[(f"../{canary.name}", b"escaped")])
    if kind == "absurd_shape":
        return _rewrite(genuine, path, lambda c: {**c, "registered_name": "vae_apps>VAE", "config": {
            **c["config"], "image_shape": [100000, 100000, 1], "latent_dim": 32}})
    raise ValueError(kind)


@pytest.mark.parametrize("kind, message", [
    ("arbitrary_function", "refused: its config names os.function"),
    ("arbitrary_top_level", "not a vae_apps VAE"),
    ("enable_unsafe_then_lambda", "refused: its config names keras"),
    ("nested_unsafe_load", "refused: its config names keras.saving.function"),
    ("legacy_h5", "not a Keras model file"),
    ("path_traversal", "unexpected entry"),
    ("absurd_shape", "absurd size"),
])
def test_hostile_archives_are_refused_and_run_nothing(kind, message, genuine, tmp_path, capsys):
    canary = tmp_path / "canary"
    path = _hostile(kind, genuine, tmp_path, canary)
    out = tmp_path / "run" / "out"
    (tmp_path / "run" / "in").mkdir(parents=True)
    (tmp_path / "run" / "in" / "a.png").write_bytes(b"")
    code = main(["denoise", str(tmp_path / "run" / "in"), str(out), "--model", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0] and str(path) in err[0]
    assert not canary.exists() and not (tmp_path.parent / canary.name).exists()


def test_a_genuine_archive_still_loads(genuine):
    from vae_apps.loading import load_vae

    assert load_vae(genuine).channels == 1
