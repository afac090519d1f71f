"""``vae-apps label``: recover the labels of a mostly unlabelled dataset from a few given ones."""

# vae_apps.labelling.pipeline imports no Keras at the top, so --help stays instant.
from vae_apps.labelling.pipeline import (LABEL_METHODS, NEIGHBOUR_SMOOTHING, NEIGHBOURS,
                                         TRUSTED_CONFIDENCE)

from .common import (add_common_options, add_data_options, add_engine_options,
                     load_data_from_args, load_model_for, positive_int, weight_below_one)


def add_parser(commands):
    """Register ``vae-apps label`` and its options.

    Args:
        commands: argparse._SubParsersAction. ``cli.build_parser``'s sub-commands.

    Examples:
    >>> add_parser(argparse.ArgumentParser().add_subparsers())  # doctest: +SKIP
    """
    p = commands.add_parser("label", help="label a mostly unlabelled dataset from a few labels",
                            description="Label every image of DATA from the few labels of "
                                        "LABELS.csv: by default a semi-supervised VAE learns from "
                                        "the labels and all the images at once.")
    add_data_options(p)
    p.add_argument("--labels", required=True, metavar="LABELS.csv",
                   help="header and rows 'path,label' (folders) or 'index,label' (arrays)")
    p.add_argument("--out", required=True, metavar="PREDICTIONS.csv")
    p.add_argument("--model", metavar="MODEL.keras",
                   help="a trained model (default: train one on DATA and the labels first)")
    p.add_argument("--method", choices=LABEL_METHODS,
                   help="semi-supervised (default): the classifier of a VAE trained with the "
                        f"labels; where it is unsure (below {TRUSTED_CONFIDENCE}), smoothed over each image's "
                        "neighbours (--smoothing); spread, knn, "
                        "centroids, gmm: spread the labels over the codes of a VAE trained without "
                        "them (default for such a --model)")
    p.add_argument("--neighbors", type=positive_int, default=NEIGHBOURS,
                   help="neighbours for knn, spread and the semi-supervised smoothing")
    p.add_argument("--smoothing", type=weight_below_one, default=NEIGHBOUR_SMOOTHING, metavar="W",
                   help="semi-supervised: the weight of the neighbours' vote on the class of "
                        "each image the classifier is unsure of (0: the classifier's own choice)")
    p.add_argument("--epochs", type=positive_int,
                   help="training epochs when --model is omitted (default: by data size)")
    p.add_argument("--suggest", type=positive_int, metavar="N",
                   help="also write the N unlabelled images whose labels would help most")
    p.add_argument("--suggest-out", metavar="SUGGEST.csv",
                   help="where --suggest writes (default: PREDICTIONS_suggest.csv beside --out)")
    p.add_argument("--figure", metavar="FILE.png", help="a map of the images coloured by label")
    add_engine_options(p)
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    """Run ``vae-apps label``: call the library with the parsed options; print the result.

    Args:
        args: argparse.Namespace. The parsed command line.

    Examples:
    >>> run(cli.build_parser().parse_args(["label", ...]))  # doctest: +SKIP
    """
    from pathlib import Path

    from vae_apps.errors import UserError
    from vae_apps.io.files import check_new_output
    from vae_apps.labelling.label_csv import read_label_csv, write_predictions, write_suggestions
    from vae_apps.labelling.recovery import suggest_labels
    from vae_apps.labelling.pipeline import recover_dataset_labels

    if args.engine == "ray" and not args.model:
        raise UserError("--engine ray needs --model (train one with vae-apps train first)")
    images = load_data_from_args(args).all()
    root = args.data if Path(args.data).is_dir() else None
    given = read_label_csv(args.labels, images.names, data_root=root)
    suggest_out = None
    if args.suggest:
        out = Path(args.out)
        suggest_out = check_new_output(
            Path(args.suggest_out or out.with_name(f"{out.stem}_suggest.csv")), args.overwrite)
    model = load_model_for(args.model, images.x.shape[1:]) if args.model else None
    codes = None
    if args.engine == "ray":
        from vae_apps.scale.ray_data import encode_ray

        codes, _ = encode_ray(args.model, images.x, address=args.ray_address,
                              actors=args.ray_actors)
    result = recover_dataset_labels(images.x, given, model=model, method=args.method, codes=codes,
                                    epochs=args.epochs, seed=args.seed,
                                    n_neighbors=args.neighbors, smoothing=args.smoothing,
                                    progress=print)
    write_predictions(args.out, images.names, given.key, result.labels, result.confidence, given,
                      args.overwrite)
    unlabelled = len(images) - len(given.rows)
    print(f"labelled {unlabelled} images from {len(given.rows)} given labels ({result.method}; "
          f"mean confidence {result.confidence.mean():.3f}) -> {args.out}")
    if suggest_out is not None:
        rows = suggest_labels(result.features, result.proba, given.rows, args.suggest, args.seed)
        write_suggestions(suggest_out, images.names, given.key, rows, args.overwrite)
        print(f"suggested {len(rows)} images to label next -> {suggest_out} (fill in the labels, "
              f"add the rows to {args.labels} and run again)")
    if args.figure:
        from vae_apps.plots import label_map_figure

        label_map_figure(args.figure, result.features, result.labels, given.rows, seed=args.seed)
