"""``vae-apps encode``: write the latent codes of DATA (dimensionality reduction)."""

from .common import add_common_options, add_data_options, load_data_from_args, load_model_for


def add_parser(commands):
    """Register ``vae-apps encode`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("encode", help="write latent codes (z_mean, z_log_var) of images",
                            description="Encode every image of DATA; write z_mean, z_log_var, "
                                        "labels and names as .npz, or one row per image as .csv.")
    add_data_options(p)
    p.add_argument("--model", required=True, metavar="MODEL.keras")
    p.add_argument("--out", required=True, metavar="CODES.npz|CODES.csv")
    add_common_options(p, seed=False)
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps encode``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> run(cli.build_parser().parse_args(["encode", ...]))  # doctest: +SKIP
    """
    from vae_apps.io.codes import write_codes

    images = load_data_from_args(args, args.model).all()
    model = load_model_for(args.model, images.x.shape[1:])
    z_mean, z_log_var = model.encode(images.x)
    write_codes(args.out, z_mean, z_log_var, images, overwrite=args.overwrite)
    print(f"encoded {len(images)} images to {z_mean.shape[1]}-d codes: {args.out}")
