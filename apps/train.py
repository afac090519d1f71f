"""``vae-apps train``: fit the shared VAE on a data spec and save it as .keras."""

from apps.common import (add_common_options, add_data_options, int_list, load_data_from_args,
                         positive_int)


def add_parser(commands):
    p = commands.add_parser("train", help="train a VAE (optionally a denoising one)",
                            description="Train the shared VAE on DATA and save the model that "
                                        "was best on the validation split.")
    add_data_options(p)
    p.add_argument("--out", default="vae.keras", metavar="MODEL.keras", help="default vae.keras")
    p.add_argument("--epochs", type=positive_int, default=10)
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--learning-rate", type=float, default=1e-3)
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
    p.add_argument("--noise", metavar="SPEC", help="train a denoiser: e.g. gaussian:0.5, salt_pepper:0.2")
    p.add_argument("--binarize", action="store_true", help="dynamic binarisation, afresh every epoch")
    p.add_argument("--logdir", help="write TensorBoard logs here")
    p.add_argument("--resume", metavar="DIR", help="back up every epoch here and resume from it")
    p.add_argument("--distribute", choices=("mirrored",),
                   help="tf.distribute strategy: mirrored = data-parallel over all visible GPUs")
    p.add_argument("--devices", type=positive_int, metavar="N",
                   help="with --distribute: use N GPUs, or split a CPU-only machine into N devices")
    add_common_options(p)
    p.set_defaults(run=run)


def run(args):
    from vae_apps.distribute import make_strategy
    from vae_apps.training import train_from_dataset

    strategy = make_strategy(args.distribute, args.devices)  # before any other TensorFlow op
    data = load_data_from_args(args)
    summary, result = train_from_dataset(
        data, out=args.out, overwrite=args.overwrite, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed,
        validation_split=args.validation_split, noise=args.noise, binarize=args.binarize,
        logdir=args.logdir, resume_dir=args.resume, strategy=strategy, latent_dim=args.latent_dim,
        architecture=args.architecture, filters=args.filters, hidden_units=args.hidden_units,
        likelihood=args.likelihood, learn_sigma=args.learn_sigma,
        beta=args.beta if args.beta is not None else (0.1 if args.noise else 1.0),
        num_samples=args.samples, warmup_epochs=args.warmup_epochs,
        pixel_context=args.pixel_context)
    print(summary)
    return 130 if result.interrupted else 0
