"""The one save -> load -> same output check every model class goes through."""

import numpy as np


def assert_same_after_reload(model, outputs_of, tmp_path, name="model.keras"):
    """Save ``model`` as ``.keras``, load it back the way users do (``safe_mode``), and
    check that the copy has the same config and gives the same outputs.

    Args:
        model: BaseVAE. Any model of the family.
        outputs_of: callable. model -> an array or a tuple of arrays (its inference).
        tmp_path: Path. Where the file goes.
        name: str. The file's name.

    Returns:
        The loaded model.
    """
    from vae_apps.loading import load_vae

    path = tmp_path / name
    model.save(path)
    loaded = load_vae(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    before, after = outputs_of(model), outputs_of(loaded)
    before = before if isinstance(before, tuple) else (before,)
    after = after if isinstance(after, tuple) else (after,)
    assert len(before) == len(after)
    for b, a in zip(before, after):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    return loaded
