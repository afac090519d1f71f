"""``vae-apps generate``: sample grids, interpolation strips and latent maps."""

from .common import add_common_options, load_model_for, positive_int


def add_parser(commands):
    """Register ``vae-apps generate`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("generate", help="draw new images: grids, interpolations, latent maps",
                            description="Decode random latent samples into a grid PNG; optionally "
                                        "walk between two images or map the latent space.")
    p.add_argument("--model", required=True, metavar="MODEL.keras")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("-n", type=positive_int,
                   help="images in the grid (default 64; 8 with --reconstruct and --attribute)")
    p.add_argument("--sampler", choices=("prior", "gmm"),
                   help="gmm: a Gaussian mixture fitted on training codes (MODEL.gmm.npz); "
                        "default gmm for the colour VAE, whose prior draws come out blotchy, "
                        "prior for the others")
    p.add_argument("--temperature", type=float, default=1.0, help="scale of the latent spread")
    p.add_argument("--binary", action="store_true", help="draw binary pixels instead of the mean")
    p.add_argument("--scale", type=positive_int,
                   help="enlarge each pixel N times (default: tiles of at least 32 pixels)")
    p.add_argument("--save-each", metavar="DIR", help="also write every sample as its own PNG")
    p.add_argument("--interpolate", nargs=2, metavar=("A.png", "B.png"),
                   help="write the latent walk from A to B as a strip instead of a grid "
                        "(an animation there and back when --out ends in .gif)")
    p.add_argument("--steps", type=positive_int, default=10)
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear walk")
    p.add_argument("--latent-map", metavar="DATA",
                   help="write a map of DATA's codes (and the manifold for a 2-D latent space)")
    p.add_argument("--reconstruct", metavar="DATA",
                   help="write DATA's first -n images (top row) above their reconstructions")
    p.add_argument("--attribute", metavar="LABELS.csv:NAME",
                   help="edit the images of --edit along NAME: the direction from the mean code "
                        "of the CSV's images without NAME to that of those with it (a header, "
                        "then rows 'path,value'; paths relative to the CSV)")
    p.add_argument("--edit", metavar="DATA", help="with --attribute: the images to edit (first -n)")
    p.add_argument("--amount", type=float, default=2.0,
                   help="with --attribute: how far along the direction, each way (default 2)")
    p.add_argument("--class", dest="class_name", metavar="LABEL",
                   help="a model trained with labels: draw this class only (default: a row per class)")
    p.add_argument("--analogies", metavar="DATA",
                   help="a model trained with labels: render the style of DATA's first -n images "
                        "as every class, one row per image")
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps generate``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> run(cli.build_parser().parse_args(["generate", ...]))  # doctest: +SKIP
    """
    from vae_apps.generation import grids as generation

    from vae_apps.errors import UserError
    from vae_apps.models.semi_supervised import SemiSupervisedVAE

    model = load_model_for(args.model)
    labelled = isinstance(model, SemiSupervisedVAE)
    if (args.class_name is not None or args.analogies) and not labelled:
        raise UserError(f"{args.model}: --class and --analogies need a model trained with labels "
                        "(vae-apps train DATA --labels LABELS.csv)")
    if labelled and (args.interpolate or args.latent_map or args.sampler == "gmm" or args.binary):
        raise UserError(f"{args.model}: a model trained with labels draws grids by class "
                        "(--class, --analogies); --interpolate, --latent-map, --sampler gmm and "
                        "--binary are for models trained without labels")
    n = args.n or (8 if args.attribute or args.reconstruct else 64)
    if bool(args.attribute) != bool(args.edit):
        raise UserError("--attribute LABELS.csv:NAME and --edit DATA go together")
    if args.attribute:
        from vae_apps.generation.attributes import write_attribute_edits

        strips, name, yes, no = write_attribute_edits(
            model, args.attribute, args.edit, args.out, n=n, amount=args.amount,
            scale=args.scale, overwrite=args.overwrite)
        print(f"wrote {len(strips)} images edited along {name!r} (learnt from {yes} images with "
              f"it and {no} without; -{args.amount:g} to +{args.amount:g}) to {args.out}")
        return 0
    if args.reconstruct:
        rows = generation.write_reconstructions(model, args.reconstruct, args.out, n=n,
                                                scale=args.scale, overwrite=args.overwrite)
        print(f"wrote {len(rows) // 2} images of {args.reconstruct} above their reconstructions "
              f"to {args.out}")
        return 0
    if args.analogies:
        rows = generation.write_analogies(model, args.analogies, args.out, n=n,
                                          scale=args.scale, overwrite=args.overwrite)
        print(f"wrote the style of {len(rows)} images of {args.analogies} rendered as each of "
              f"{model.n_classes} classes to {args.out}")
    elif labelled:
        images = generation.write_class_samples(model, args.out, args.class_name, n=n,
                                                seed=args.seed, temperature=args.temperature,
                                                scale=args.scale, overwrite=args.overwrite)
        what = (f"class {args.class_name}" if args.class_name is not None
                else f"each of {model.n_classes} classes (one row each, one style per column)")
        print(f"wrote {len(images)} samples of {what} (seed {args.seed}) to {args.out}")
    elif args.interpolate:
        generation.write_interpolation(model, *args.interpolate, args.out, steps=args.steps,
                                       spherical=args.slerp, scale=args.scale,
                                       overwrite=args.overwrite)
        kind = "spherical" if args.slerp else "linear"
        what = "an animation of a" if str(args.out).lower().endswith(".gif") else "a"
        print(f"wrote {what} {args.steps}-step {kind} walk (inputs at both ends) to {args.out}")
    elif args.latent_map:
        count, grid = generation.write_latent_map(model, args.latent_map, args.out, seed=args.seed,
                                                  overwrite=args.overwrite)
        print(f"wrote the latent map of {count} images to {args.out}"
              + (f" and the decoded manifold to {grid}" if grid else ""))
    else:
        sampler = args.sampler or generation.default_sampler(model, args.model)
        generation.write_samples(model, args.model, args.out, n=n, sampler=sampler,
                                 seed=args.seed, temperature=args.temperature, binary=args.binary,
                                 scale=args.scale, save_each=args.save_each,
                                 overwrite=args.overwrite)
        print(f"wrote {n} samples ({sampler}, temperature {args.temperature}, "
              f"seed {args.seed}) to {args.out}")
