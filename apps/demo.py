"""``vae-apps demo``: the whole product on one data set, with an HTML report."""

from .common import add_common_options, positive_int


def add_parser(commands):
    """Register ``vae-apps demo`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("demo", help="run all three applications and write a report",
                            description="Train the VAE (and a denoising VAE) on DATA, then denoise, "
                                        "label from 2 % of the labels and generate; write "
                                        "DIR/index.html, the figures, metrics.json and the models.")
    p.add_argument("data", nargs="?", default="digits", metavar="DATA",
                   help="any data spec (default digits: bundled, no network)")
    p.add_argument("--out", default="demo", metavar="DIR")
    p.add_argument("--epochs", type=positive_int, help="default 40 for small data (under 5000 images), else 3")
    p.add_argument("--batch-size", type=positive_int, help="default 32 for small data, else 128")
    p.add_argument("--noise", default="gaussian:0.5")
    p.add_argument("--colour", metavar="FOLDER",
                   help="colour images (faces, say) for the colour generation stage, trained at "
                        "64 px (default: 32 px crops of the bundled colour photos)")
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps demo``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> run(cli.build_parser().parse_args(["demo", ...]))  # doctest: +SKIP
    """
    from vae_apps.demo import run_demo
    from vae_apps.io.files import check_new_output

    check_new_output(f"{args.out}/index.html", args.overwrite)
    run_demo(args.data, args.out, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
             noise=args.noise, colour_images=args.colour)
