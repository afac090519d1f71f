"""The one exception type for user mistakes: the CLI prints it as one line."""


class UserError(Exception):
    """Bad input from the user (a file, an argument, a model); its message names it.

    Args:
        message: str. One readable line naming the file or argument and the problem.

    Examples:
    >>> raise UserError("photos/a.png: not an image (truncated PNG)")  # doctest: +SKIP
    """
