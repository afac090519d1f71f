"""``vae-apps label``: recover the labels of a mostly unlabelled dataset in latent space."""

from .common import (add_common_options, add_data_options, add_engine_options,
                         load_data_from_args, load_model_for, positive_int)


def add_parser(commands):
    p = commands.add_parser("label", help="label a mostly unlabelled dataset from a few labels",
                            description="Encode DATA, then spread the few labels of LABELS.csv "
                                        "to every image through the latent space.")
    add_data_options(p)
    p.add_argument("--labels", required=True, metavar="LABELS.csv",
                   help="header and rows 'path,label' (folders) or 'index,label' (arrays)")
    p.add_argument("--out", required=True, metavar="PREDICTIONS.csv")
    p.add_argument("--model", metavar="MODEL.keras", help="default: train one on DATA first")
    p.add_argument("--method", choices=("spread", "knn", "centroids", "gmm"), default="spread")
    p.add_argument("--neighbors", type=int, default=10, help="neighbours for knn and spread")
    p.add_argument("--epochs", type=positive_int,
                   help="training epochs when --model is omitted (default: 10-100 by data size)")
    p.add_argument("--figure", metavar="FILE.png", help="latent map coloured by recovered label")
    add_engine_options(p)
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    from pathlib import Path

    from vae_apps.errors import UserError
    from vae_apps.labeling import read_label_csv, recover_labels, write_predictions
    from vae_apps.plots import label_map_figure

    if args.engine == "ray" and not args.model:
        raise UserError("--engine ray needs --model (train one with vae-apps train first)")
    images = load_data_from_args(args).all()
    root = args.data if Path(args.data).is_dir() else None
    given = read_label_csv(args.labels, images.names, data_root=root)
    model = load_model_for(args.model, images.x.shape[1:]) if args.model else _train(args, images)
    if args.engine == "ray":
        from vae_apps.ray_engine import encode_ray

        codes, _ = encode_ray(args.model, images.x, address=args.ray_address,
                              actors=args.ray_actors)
    else:
        codes, _ = model.encode(images.x)
    labeler = recover_labels(codes, given, args.method, args.seed, n_neighbors=args.neighbors)
    labels = write_predictions(args.out, images.names, given.key, labeler, given, args.overwrite)
    if args.figure:
        label_map_figure(args.figure, codes, labels, given.rows, seed=args.seed)
    print(f"labelled {len(images) - len(given.rows)} images from {len(given.rows)} given labels "
          f"({args.method}; mean confidence {labeler.confidence_.mean():.3f}) -> {args.out}")


def _train(args, images):
    from vae_apps.pipelines import train_labeling_vae

    print(f"no --model given: training a VAE on the {len(images)} images of {args.data} first")
    return train_labeling_vae(images.x, epochs=args.epochs, seed=args.seed, verbose=0)
