"""Multi-device training with ``tf.distribute`` (what ``vae-apps train --distribute`` uses).

The VAE's hand-written loss is divided by the number of replicas in ``train_step``, so
a step on N replicas equals a step on one device over the same global batch.
"""

from vae_apps.errors import UserError

STRATEGIES = ("mirrored",)


def split_cpu(devices):
    """Split the CPU into ``devices`` logical devices (before TensorFlow runs any op).

    Args:
        devices: int. Logical CPU devices to make (a mirrored strategy's replicas on a
            machine without GPUs).

    Examples:
    >>> split_cpu(2)
    >>> strategy = make_strategy("mirrored", devices=2)
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)])
    except RuntimeError as exc:
        # Setting it again to the same split is harmless; anything else is too late.
        if len(tf.config.list_logical_devices("CPU")) != devices:
            raise UserError(f"cannot split the CPU into {devices} devices: TensorFlow has "
                            "started already") from exc


def make_strategy(kind=None, devices=None):
    """Return a ``tf.distribute`` strategy, or ``None`` for the default (one device).

    Args:
        kind: str or None. ``None`` or ``"mirrored"``: ``MirroredStrategy`` over the
            visible GPUs (the first ``devices`` of them), or, on a machine without GPUs,
            over ``devices`` logical CPU devices (default 1).
        devices: int or None. How many devices.

    Examples:
    >>> strategy = make_strategy("mirrored", devices=2)
    >>> train_vae(x, strategy=strategy, batch_size=256)  # the global batch
    """
    import tensorflow as tf

    if kind is None:
        if devices not in (None, 1):
            raise UserError("--devices needs --distribute mirrored")
        return None
    if kind not in STRATEGIES:
        raise UserError(f"unknown strategy {kind!r}; choose from {', '.join(STRATEGIES)}")
    if devices is not None and devices < 1:
        raise UserError(f"--devices must be at least 1, got {devices}")
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if devices is not None and devices > len(gpus):
            raise UserError(f"--devices {devices}: only {len(gpus)} GPU(s) are visible")
        names = [f"/gpu:{i}" for i in range(devices or len(gpus))]
    else:
        split_cpu(devices or 1)
        names = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(names)
