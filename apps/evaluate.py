"""``vae-apps evaluate``."""


def add_parser(commands):
    p = commands.add_parser("evaluate", help="(not yet available)")
    p.set_defaults(run=run)


def run(args):
    from vae_apps.errors import UserError

    raise UserError("not yet available")
