"""``vae-apps train``: fit the shared VAE on a data spec and save it as .keras."""

from .common import (add_common_options, add_data_options, int_list, load_data_from_args,
                         positive_int)


def add_parser(commands):
    """Register ``vae-apps train`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("train", help="train a VAE (optionally a denoising one)",
                            description="Train the shared VAE on DATA and save the model that "
                                        "was best on the validation split.")
    add_data_options(p)
    p.add_argument("--out", default="vae.keras", metavar="MODEL.keras", help="default vae.keras")
    p.add_argument("--epochs", type=positive_int,
                   help="default 6, more on small data for at least 2,500 updates (at most 100); "
                        "30 with --patch-size")
    p.add_argument("--batch-size", type=positive_int,
                   help="default 128; 32 below 5,000 images or with --patch-size")
    p.add_argument("--learning-rate", type=float,
                   help="Adam's (peak) learning rate (default 3e-3; 1e-3 with --patch-size or --labels)")
    p.add_argument("--schedule", choices=("constant", "cosine"),
                   help="cosine (default): linear warm-up, then cosine decay to 1%% at the last epoch")
    p.add_argument("--warmup-steps", type=int, metavar="N",
                   help="learning-rate warm-up updates of the cosine schedule (default 400, at most "
                        "a sixth of all)")
    p.add_argument("--early-stopping", type=positive_int, metavar="EPOCHS",
                   help="stop after EPOCHS epochs without a better validation loss")
    p.add_argument("--precision", choices=("auto", "float32", "mixed"), default="auto",
                   help="mixed: bfloat16 compute (auto: where the CPU has AMX/AVX-512 BF16); "
                        "the saved model is float32 either way")
    p.add_argument("--latent-dim", type=positive_int, default=32)
    p.add_argument("--architecture", choices=("conv", "dense"), default="conv")
    p.add_argument("--filters", type=int_list, default=(32, 64), metavar="32,64")
    p.add_argument("--hidden-units", type=int_list, default=(512,), metavar="512")
    p.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    p.add_argument("--learn-sigma", action="store_true", help="learn the Gaussian likelihood's sigma")
    p.add_argument("--beta", type=float,
                   help="weight of the KL term (default 1, or 0.1 with --noise: sharper denoising)")
    p.add_argument("--samples", type=positive_int, default=1, help="K samples of z per image")
    p.add_argument("--warmup-epochs", type=int, default=0, help="linear KL warm-up")
    p.add_argument("--pixel-context", type=int, default=0, metavar="M",
                   help="M > 0: each pixel also depends on the pixels above and left of it "
                        "(a one-layer PixelCNN head); better likelihoods, slower sampling")
    p.add_argument("--validation-split", type=float, default=0.1)
    p.add_argument("--noise", metavar="SPEC",
                   help="train a denoiser: e.g. gaussian:0.5, salt_pepper:0.2, a range gaussian:0-0.2 "
                        "(default with --patch-size: gaussian:0-0.2, blind)")
    p.add_argument("--binarize", action="store_true", help="dynamic binarisation, afresh every epoch")
    patches = p.add_argument_group(
        "full-resolution denoiser (photos of any size)",
        "--patch-size trains a fully convolutional denoising VAE on random crops; it denoises "
        "images at their own size. DATA: an image folder (files are streamed), bundled-photos, "
        "or any data spec.")
    patches.add_argument("--patch-size", type=positive_int, metavar="N",
                         help="train on random N x N crops (a multiple of 4, e.g. 64)")
    patches.add_argument("--noisy-only", action="store_true",
                         help="DATA holds noisy images and no clean ones: learn from the noisy "
                              "images alone (pairs of neighbouring pixels, Neighbor2Neighbor); "
                              "train on the folder you then denoise")
    patches.add_argument("--init", metavar="MODEL",
                         help="start from this fully convolutional model's weights (a .keras "
                              "file or a preset such as photo-rgb) and train it further")
    patches.add_argument("--patches-per-image", type=positive_int, metavar="N",
                         help="crops per image per epoch (default 256; more for folders of "
                              "one to three images, so that an epoch has at least 32 updates; "
                              "with --noisy-only as many as make 256 updates an epoch, whatever "
                              "the folder's size)")
    p.add_argument("--labels", metavar="LABELS.csv",
                   help="train a semi-supervised VAE that learns the classes of these few labels "
                        "from all of DATA (for vae-apps label --model and generate --class)")
    p.add_argument("--logdir", help="write TensorBoard logs here")
    p.add_argument("--resume", metavar="DIR", help="back up every epoch here and resume from it")
    p.add_argument("--distribute", choices=("mirrored",),
                   help="tf.distribute strategy: mirrored = data-parallel over all visible GPUs")
    p.add_argument("--devices", type=positive_int, metavar="N",
                   help="with --distribute: use N GPUs, or split a CPU-only machine into N devices")
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps train``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Returns:
        The exit status (0, or 130 after Ctrl-C).

    Examples:
    >>> run(cli.build_parser().parse_args(["train", ...]))  # doctest: +SKIP
    """
    from vae_apps.scale.distribute import make_strategy
    from vae_apps.pipelines import train_from_dataset

    if args.patch_size:
        return _run_patch_training(args)
    if args.init:
        from vae_apps.errors import UserError

        raise UserError("--init trains a full-resolution denoiser further: give --patch-size "
                        "too (e.g. --patch-size 64)")
    if args.noisy_only:
        from vae_apps.errors import UserError

        raise UserError("--noisy-only trains a full-resolution denoiser: give --patch-size too "
                        "(e.g. --patch-size 64)")
    if args.labels:
        return _run_labelled_training(args)
    strategy = make_strategy(args.distribute, args.devices)  # before any other TensorFlow op
    data = load_data_from_args(args)
    given = {name: getattr(args, name) for name in ("epochs", "batch_size", "learning_rate",
                                                    "schedule", "warmup_steps", "early_stopping")
             if getattr(args, name) is not None}
    summary, result = train_from_dataset(
        data, out=args.out, overwrite=args.overwrite, precision=args.precision, seed=args.seed,
        validation_split=args.validation_split, noise=args.noise, binarize=args.binarize,
        logdir=args.logdir, resume_dir=args.resume, strategy=strategy, latent_dim=args.latent_dim,
        architecture=args.architecture, filters=args.filters, hidden_units=args.hidden_units,
        likelihood=args.likelihood, learn_sigma=args.learn_sigma,
        beta=args.beta,
        num_samples=args.samples, warmup_epochs=args.warmup_epochs,
        pixel_context=args.pixel_context, **given)
    print(summary)
    return 130 if result.interrupted else 0


def _run_patch_training(args):
    """``run`` for ``--patch-size``: a full-resolution denoiser trained on patches."""
    from vae_apps.pipelines import train_photo_denoiser

    kwargs = {name: value for name, value in [("beta", args.beta), ("noise", args.noise),
                                               ("epochs", args.epochs), ("batch_size", args.batch_size)]
              if value is not None}
    summary, result = train_photo_denoiser(
        args.data, args.out, channels=args.channels, patch_size=args.patch_size,
        patches_per_image=args.patches_per_image,
        learning_rate=args.learning_rate or 1e-3, precision=args.precision, seed=args.seed,
        overwrite=args.overwrite, logdir=args.logdir, resume_dir=args.resume,
        noisy_only=args.noisy_only, init=args.init, **kwargs)
    print(summary)
    return 130 if result.interrupted else 0


def _run_labelled_training(args):
    """``run`` for ``--labels``: a semi-supervised labeller."""
    from pathlib import Path

    from vae_apps.labelling.recovery import read_label_csv
    from vae_apps.pipelines import train_labeller_from_csv

    images = load_data_from_args(args).all()
    root = args.data if Path(args.data).is_dir() else None
    kwargs = {name: value for name, value in [("epochs", args.epochs),
                                               ("batch_size", args.batch_size)] if value is not None}
    summary, result = train_labeller_from_csv(
        images, read_label_csv(args.labels, images.names, data_root=root), args.out,
        learning_rate=args.learning_rate or 1e-3, seed=args.seed, overwrite=args.overwrite,
        precision=args.precision, **kwargs)
    print(summary)
    return 130 if result.interrupted else 0
