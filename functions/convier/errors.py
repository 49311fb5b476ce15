"""The one error type the shell turns into a clean message and a non-zero exit."""


class InputError(ValueError):
    """Bad input from staff: the message names the file, line or field, in French."""
