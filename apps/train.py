"""``vae-apps train``: fit a model on DATA and save it as .keras.

One command, three modes, chosen by the flags: the small-image VAE (default; a small-image
denoiser with ``--noise``), the full-resolution denoiser (``--patch-size``) and the
semi-supervised labeller (``--labels``). A flag that the chosen mode does not use is an
error naming both. Every default comes from the mode's config object in the library.
"""

# These modules import no Keras at the top, so --help stays instant.
from vae_apps.denoising.train import PATCH_DENOISER
from vae_apps.generation.train import COLOUR_IMAGES
from vae_apps.labelling.train import LABELLER
from vae_apps.training.schedule import SCHEDULES
from vae_apps.training.small_images import SmallImageConfig

from .common import (add_common_options, add_data_options, int_list, load_data_from_args,
                     positive_int)

SMALL = SmallImageConfig()
SMALL_MODE = "small images (the default)"
COLOUR_MODE = "colour image folder (a generative VAE with latents at several scales)"
PATCH_MODE = "full-resolution denoiser (--patch-size)"
LABELS_MODE = "semi-supervised labeller (--labels)"
# The options each mode reads, beyond DATA, --out, --seed, --overwrite, --quiet, --grayscale
# / --rgb, --epochs, --batch-size, --learning-rate and --precision, which all modes read.
MODE_OPTIONS = {
    SMALL_MODE: {"image_size", "schedule", "warmup_steps", "early_stopping", "validation_split",
                 "latent_dim", "architecture", "filters", "hidden_units", "likelihood",
                 "learn_sigma", "beta", "samples", "warmup_epochs", "pixel_context", "noise",
                 "binarize", "logdir", "resume", "distribute", "devices"},
    COLOUR_MODE: {"image_size", "logdir", "resume"},
    PATCH_MODE: {"patch_size", "noisy_only", "init", "patches_per_image", "beta", "noise",
                 "logdir", "resume"},
    LABELS_MODE: {"labels", "image_size"},
}


def add_parser(commands):
    """Register ``vae-apps train`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser(
        "train", help="train a VAE: small images, colour images, a photo denoiser, a labeller",
        description="Train a model on DATA and save the one that was best on the validation "
                    "split. Four modes: small images of one size (default; with --noise a "
                    "small-image denoiser), a folder of colour images (a generative VAE with "
                    "latents at several scales, images cut to --image-size; --architecture conv "
                    "keeps the small-image VAE), a full-resolution photo denoiser "
                    "(--patch-size), a semi-supervised labeller (--labels). A flag another mode "
                    "reads is an error.")
    add_data_options(p)
    p.add_argument("--out", default="vae.keras", metavar="MODEL.keras", help="default vae.keras")
    p.add_argument("--epochs", type=positive_int,
                   help=f"default {SMALL.epochs}, more on small data for at least "
                        f"{SMALL.min_updates:,} updates (at most {SMALL.max_epochs}); "
                        f"{PATCH_DENOISER.epochs} with --patch-size; by data size with --labels "
                        f"(about {LABELLER.presentations:,} image presentations)")
    p.add_argument("--batch-size", type=positive_int,
                   help=f"default {SMALL.batch_size}; {SMALL.small_batch_size} below "
                        f"{SMALL.small_data:,} images; {PATCH_DENOISER.batch_size} with "
                        f"--patch-size; {LABELLER.batch_size} with --labels")
    p.add_argument("--learning-rate", type=float,
                   help=f"Adam's (peak) learning rate (default {SMALL.learning_rate:g}; "
                        f"{PATCH_DENOISER.learning_rate:g} with --patch-size, "
                        f"{LABELLER.learning_rate:g} with --labels)")
    p.add_argument("--precision", choices=("auto", "float32", "mixed"),
                   help="mixed: bfloat16 compute (auto, the default: where the CPU has "
                        "AMX/AVX-512 BF16); the saved model is float32 either way")
    small = p.add_argument_group(
        "small images of one size (the default mode)",
        "A VAE for samples, likelihoods and latent codes (vae-apps generate, evaluate, encode); "
        "with --noise a small-image denoiser.")
    small.add_argument("--schedule", choices=SCHEDULES,
                       help=f"{SMALL.schedule} (default): linear warm-up, then cosine decay to "
                            "1%% at the last epoch")
    small.add_argument("--warmup-steps", type=int, metavar="N",
                       help=f"learning-rate warm-up updates of the cosine schedule (default "
                            f"{SMALL.warmup_steps}, at most a sixth of all)")
    small.add_argument("--early-stopping", type=positive_int, metavar="EPOCHS",
                       help="stop after EPOCHS epochs without a better validation loss")
    small.add_argument("--validation-split", type=float,
                       help=f"the share of DATA held out (default {SMALL.validation_split})")
    small.add_argument("--latent-dim", type=positive_int, help="default 32")
    small.add_argument("--architecture", choices=("conv", "dense"),
                       help="default conv; for a folder of colour images, the VAE with latents "
                            f"at several scales unless given (--image-size, default "
                            f"{COLOUR_IMAGES.image_size}: the images' centre squares resized)")
    small.add_argument("--filters", type=int_list, metavar="32,64", help="default 32,64")
    small.add_argument("--hidden-units", type=int_list, metavar="512", help="default 512")
    small.add_argument("--likelihood", choices=("bernoulli", "gaussian"), help="default bernoulli")
    small.add_argument("--learn-sigma", action="store_true",
                       help="learn the Gaussian likelihood's sigma")
    small.add_argument("--beta", type=float,
                       help=f"weight of the KL term (default 1, or {SMALL.denoiser_beta} with "
                            "--noise: sharper denoising)")
    small.add_argument("--samples", type=positive_int, help="K samples of z per image (default 1)")
    small.add_argument("--warmup-epochs", type=int, help="linear KL warm-up (default 0)")
    small.add_argument("--pixel-context", type=int, metavar="M",
                       help="M > 0: each pixel also depends on the pixels above and left of it "
                            "(a one-layer PixelCNN head); better likelihoods, slower sampling")
    small.add_argument("--noise", metavar="SPEC",
                       help="train a denoiser: e.g. gaussian:0.5, salt_pepper:0.2, a range "
                            f"gaussian:0-0.2 (default with --patch-size: {PATCH_DENOISER.noise}, "
                            "blind)")
    small.add_argument("--binarize", action="store_true",
                       help="dynamic binarisation, afresh every epoch")
    small.add_argument("--logdir", help="write TensorBoard logs here (also --patch-size)")
    small.add_argument("--resume", metavar="DIR",
                       help="back up every epoch here and resume from it (also --patch-size)")
    small.add_argument("--distribute", choices=("mirrored",),
                       help="tf.distribute strategy: mirrored = data-parallel over all visible GPUs")
    small.add_argument("--devices", type=positive_int, metavar="N",
                       help="with --distribute: use N GPUs, or split a CPU-only machine into N "
                            "devices")
    patches = p.add_argument_group(
        "full-resolution denoiser (photos of any size)",
        "--patch-size trains a fully convolutional denoising VAE on random crops; it denoises "
        "images at their own size. DATA: an image folder (files are streamed), bundled-photos, "
        "or any data spec. It also reads --noise, --beta, --logdir and --resume.")
    patches.add_argument("--patch-size", type=positive_int, metavar="N",
                         help=f"train on random N x N crops (a multiple of 4, e.g. "
                              f"{PATCH_DENOISER.patch_size})")
    patches.add_argument("--noisy-only", action="store_true",
                         help="DATA holds noisy images and no clean ones: learn from the noisy "
                              "images alone (pairs of neighbouring pixels, Neighbor2Neighbor); "
                              "train on the folder you then denoise")
    patches.add_argument("--init", metavar="MODEL",
                         help="start from this fully convolutional model's weights (a .keras "
                              "file or a preset such as photo-rgb) and train it further")
    patches.add_argument("--patches-per-image", type=positive_int, metavar="N",
                         help=f"crops per image per epoch (default "
                              f"{PATCH_DENOISER.patches_per_image}; more for folders of one to "
                              f"three images, so that an epoch has at least "
                              f"{PATCH_DENOISER.min_steps_per_epoch} updates; with --noisy-only "
                              f"as many as make {PATCH_DENOISER.noisy_only_steps_per_epoch} "
                              "updates an epoch, whatever the folder's size)")
    labels = p.add_argument_group("semi-supervised labeller")
    labels.add_argument("--labels", metavar="LABELS.csv",
                        help="train a semi-supervised VAE that learns the classes of these few "
                             "labels from all of DATA (for vae-apps label --model and generate "
                             "--class)")
    add_common_options(p)
    p.set_defaults(run=run)


def chosen_mode(args):
    """The mode the flags choose; a flag of another mode is a ``UserError`` naming both.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> chosen_mode(parser.parse_args(["train", "photos/", "--patch-size", "64"]))  # doctest: +SKIP
    'full-resolution denoiser (--patch-size)'
    """
    from vae_apps.errors import UserError

    if args.patch_size and args.labels:
        raise UserError("--patch-size trains a denoiser and --labels a labeller: choose one")
    mode = (PATCH_MODE if args.patch_size else LABELS_MODE if args.labels
            else COLOUR_MODE if _colour_folder(args) else SMALL_MODE)
    if mode == SMALL_MODE and (args.noisy_only or args.init):
        flag = "--noisy-only" if args.noisy_only else "--init"
        raise UserError(f"{flag} trains a full-resolution denoiser: give --patch-size too "
                        f"(e.g. --patch-size {PATCH_DENOISER.patch_size})")
    every_mode = set().union(*MODE_OPTIONS.values())
    for name in sorted(every_mode - MODE_OPTIONS[mode]):
        if getattr(args, name) not in (None, False):
            flag = "--" + name.replace("_", "-")
            users = [m for m, names in MODE_OPTIONS.items() if name in names]
            raise UserError(f"{flag} does not apply to the {mode}: it is read by the "
                            f"{' and the '.join(users)}")
    return mode


def _colour_folder(args):
    """A folder of colour images, trained without --noise, --architecture or --grayscale."""
    from pathlib import Path

    if args.noise or args.architecture or args.channels == 1 or not Path(args.data).is_dir():
        return False
    from vae_apps.denoising.train import folder_channels
    from vae_apps.io.images import list_images

    files, _ = list_images(args.data)
    return bool(files) and folder_channels(files) == 3


def run(args):
    """Run ``vae-apps train``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Returns:
        The exit status (0, or 130 after Ctrl-C).

    Examples:
    >>> run(cli.build_parser().parse_args(["train", ...]))  # doctest: +SKIP
    """
    mode = chosen_mode(args)
    if mode == PATCH_MODE:
        return _run_patch_training(args)
    if mode == LABELS_MODE:
        return _run_labelled_training(args)
    if mode == COLOUR_MODE:
        return _run_colour_training(args)
    return _run_small_image_training(args)


def _given(args, *names):
    """{name: value} of the options given on the command line (the rest: the config's)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) not in (None, False)}


def _run_small_image_training(args):
    """``run`` for the default mode: a small-image VAE, or a small-image denoiser."""
    from vae_apps.scale.distribute import make_strategy

    strategy = make_strategy(args.distribute, args.devices)  # before any other TensorFlow op
    data = load_data_from_args(args)
    kwargs = _given(args, "epochs", "batch_size", "learning_rate", "schedule", "warmup_steps",
                    "early_stopping", "precision", "validation_split", "latent_dim",
                    "architecture", "filters", "hidden_units", "likelihood", "learn_sigma",
                    "beta", "warmup_epochs", "pixel_context")
    if args.samples is not None:
        kwargs["num_samples"] = args.samples
    kwargs.update(out=args.out, overwrite=args.overwrite, seed=args.seed, logdir=args.logdir,
                  resume_dir=args.resume, strategy=strategy, binarize=args.binarize)
    if args.noise:
        from vae_apps.denoising.train import train_small_denoiser

        summary, result = train_small_denoiser(data, noise=args.noise, **kwargs)
    else:
        from vae_apps.generation.train import train_from_dataset

        summary, result = train_from_dataset(data, **kwargs)
    print(summary)
    return 130 if result.interrupted else 0


def _run_patch_training(args):
    """``run`` for ``--patch-size``: a full-resolution denoiser trained on patches."""
    from vae_apps.denoising.train import train_photo_denoiser

    summary, result = train_photo_denoiser(
        args.data, args.out, channels=args.channels, seed=args.seed, overwrite=args.overwrite,
        logdir=args.logdir, resume_dir=args.resume, noisy_only=args.noisy_only, init=args.init,
        **_given(args, "patch_size", "patches_per_image", "epochs", "batch_size",
                 "learning_rate", "precision", "beta", "noise"))
    print(summary)
    return 130 if result.interrupted else 0


def _run_labelled_training(args):
    """``run`` for ``--labels``: a semi-supervised labeller."""
    from pathlib import Path

    from vae_apps.labelling.label_csv import read_label_csv
    from vae_apps.labelling.train import train_labeller_from_csv

    images = load_data_from_args(args).all()
    root = args.data if Path(args.data).is_dir() else None
    summary, result = train_labeller_from_csv(
        images, read_label_csv(args.labels, images.names, data_root=root), args.out,
        seed=args.seed, overwrite=args.overwrite,
        **_given(args, "epochs", "batch_size", "learning_rate", "precision"))
    print(summary)
    return 130 if result.interrupted else 0


def _run_colour_training(args):
    """``run`` for a folder of colour images: a ``HierarchicalVAE``."""
    from vae_apps.errors import UserError
    from vae_apps.generation.train import train_colour_vae

    size = None
    if args.image_size:
        if args.image_size[0] != args.image_size[1]:
            raise UserError(f"--image-size {args.image_size[0]}x{args.image_size[1]}: the colour "
                            "VAE works on squares (e.g. --image-size 64)")
        size = args.image_size[0]
    summary, result = train_colour_vae(
        args.data, args.out, image_size=size, seed=args.seed, overwrite=args.overwrite,
        logdir=args.logdir, resume_dir=args.resume,
        **_given(args, "epochs", "batch_size", "learning_rate", "precision"))
    print(summary)
    return 130 if result.interrupted else 0
