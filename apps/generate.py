"""``vae-apps generate``."""


def add_parser(commands):
    p = commands.add_parser("generate", help="(not yet available)")
    p.set_defaults(run=run)


def run(args):
    from vae_apps.errors import UserError

    raise UserError("not yet available")
