"""``vae-apps evaluate``: negative ELBO, its terms, IWAE log-likelihood, active units."""

from .common import add_common_options, add_data_options, load_data_from_args, load_model_for, positive_int


def add_parser(commands):
    """Register ``vae-apps evaluate`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("evaluate", help="ELBO, IWAE log-likelihood and active units on test data",
                            description="Evaluate MODEL on the test split of DATA (all of DATA if "
                                        "it has none), in nats per image.")
    add_data_options(p)
    p.add_argument("--model", required=True, metavar="MODEL.keras")
    p.add_argument("--iwae-samples", type=positive_int, default=1000, help="K of the IWAE bound")
    p.add_argument("--binarize", action="store_true", help="binarise the test images once (seeded)")
    p.add_argument("--limit", type=positive_int, help="evaluate on the first N test images only")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps evaluate``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> run(cli.build_parser().parse_args(["evaluate", ...]))  # doctest: +SKIP
    """
    import json

    from vae_apps.generation.likelihoods import evaluate_model
    from vae_apps.io.files import atomic_path, check_new_output

    check_new_output(args.json, args.overwrite)
    data = load_data_from_args(args, args.model)
    x = (data.test or data.train).x[:args.limit]
    model = load_model_for(args.model, x.shape[1:])
    figures = evaluate_model(model, x, args.iwae_samples, args.binarize, args.seed,
                             progress=not args.quiet)
    for name, value in figures.items():
        print(f"{name:>24}: {value:.3f}" if isinstance(value, float) else f"{name:>24}: {value}")
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(figures, indent=2))
