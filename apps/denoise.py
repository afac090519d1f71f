"""``vae-apps denoise``: clean a folder of images (or an array file) with a trained model."""

import sys
from pathlib import Path

from .common import (add_common_options, add_engine_options, load_model_for, positive_float,
                     positive_int)


def add_parser(commands):
    """Register ``vae-apps denoise`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("denoise", help="denoise an image folder or array file",
                            description="Denoise every image under IN (recursively) into the same "
                                        "relative path under OUT, keeping format, size and mode. "
                                        "IN may also be a .npz/.npy file; OUT is then one too.")
    p.add_argument("input", metavar="IN", help="image folder or .npz/.npy file")
    p.add_argument("output", metavar="OUT", help="output folder (or file for arrays)")
    from vae_apps.denoising.presets import PRESETS  # build_parser imported vae_apps without Keras

    p.add_argument("--model", default="photo", metavar="MODEL",
                   help="a denoising model (.keras) or a shipped preset: photo (default: "
                        "photo-grey or photo-rgb per image), "
                        + ", ".join(f"{name} ({preset.description})"
                                    for name, preset in PRESETS.items()))
    p.add_argument("--reference", metavar="CLEAN", help="clean originals: report PSNR and SSIM")
    p.add_argument("--figure", metavar="FILE.png", help="write a before/after figure")
    p.add_argument("--strength", type=positive_float, default=1.0, metavar="S",
                   help="scale the noise level the model is given (default 1: as estimated, "
                        "and 1.25 times that for camera noise in colour photos); above 1 "
                        "removes more noise, below 1 keeps more grain and fine detail")
    p.add_argument("--sigma", type=positive_float, metavar="GREY_LEVELS",
                   help="the noise standard deviation in grey levels of 255, if known "
                        "(default: estimated from each image)")
    p.add_argument("--samples", type=positive_int, metavar="K",
                   help="denoise with the mean of K posterior samples (fully convolutional "
                        "models; about K times slower) instead of the posterior mean")
    p.add_argument("--uncertainty", metavar="DIR",
                   help="with --samples: write per image a 16-bit grey PNG of each pixel's "
                        "predicted error standard deviation (v / 65535 on the 0-1 scale)")
    p.add_argument("--samples-out", metavar="DIR",
                   help="with --samples: write a few of the samples themselves (NAME_sample1 ...)")
    p.add_argument("--self-ensemble", action="store_true",
                   help="average the outputs for each image's 8 turns and mirror images: "
                   "5-8 times the time, +0.2-0.4 dB on noisy held-out photos (fully "
                   "convolutional models)")
    p.add_argument("--batch-size", type=positive_int, default=256)
    add_engine_options(p)
    add_common_options(p)  # --seed: the posterior samples
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps denoise``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> run(cli.build_parser().parse_args(["denoise", ...]))  # doctest: +SKIP
    """
    from vae_apps.denoising import folders
    from vae_apps.io.data import read_array_file
    from vae_apps.errors import UserError
    from vae_apps.plots import rows_figure

    noise_level = None if args.sigma is None else args.sigma / 255.0
    if (args.strength != 1.0 or noise_level is not None) and (
            Path(args.input).is_file() or args.engine == "ray"):
        raise UserError("--strength and --sigma apply to image folders denoised here "
                        "(not to array files or --engine ray)")
    if args.self_ensemble and (Path(args.input).is_file() or args.engine == "ray"):
        raise UserError("--self-ensemble applies to image folders denoised here (not to array "
                        "files or --engine ray)")
    if (args.samples or args.uncertainty or args.samples_out) and (
            Path(args.input).is_file() or args.engine == "ray"):
        raise UserError("--samples, --uncertainty and --samples-out apply to image folders "
                        "denoised here (not to array files or --engine ray)")
    if Path(args.input).is_file():
        if args.engine == "ray":
            raise UserError(f"{args.input}: --engine ray denoises image folders; an array file "
                            "is denoised here, without --engine ray")
        reference = read_array_file(args.reference) if args.reference else None
        from vae_apps.denoising.arrays import denoise_array_file

        report = denoise_array_file(load_model_for(args.model), args.input, args.output,
                                            overwrite=args.overwrite, batch_size=args.batch_size,
                                            reference=reference)
    elif args.engine == "ray":
        from vae_apps.scale.ray_data import denoise_folder_ray

        report = denoise_folder_ray(args.model, args.input, args.output, overwrite=args.overwrite,
                                    batch_size=args.batch_size, reference_dir=args.reference,
                                    address=args.ray_address, actors=args.ray_actors,
                                    model=load_model_for(args.model))
    else:
        # The model file, not the model: it loads while the first images are read.
        report = folders.denoise_folder(args.model, args.input, args.output, overwrite=args.overwrite,
                                        batch_size=args.batch_size, reference_dir=args.reference,
                                        strength=args.strength, noise_level=noise_level,
                                        samples=args.samples or 0, seed=args.seed,
                                        uncertainty_dir=args.uncertainty,
                                        samples_dir=args.samples_out,
                                        self_ensemble=args.self_ensemble)
    if args.figure and report.examples:
        rows_figure(args.figure, report.examples, title="before / after",
                    actual_size=report.full_resolution)
    elif args.figure:
        print("warning: no figure written: no image was denoised in this run", file=sys.stderr)
    print(f"{report.summary()} -> {args.output}")
