"""The project's own exceptions. The CLI turns `InputError` into exit code 2 and a one-line message."""


class NSTError(Exception):
    """Base class of every error nst raises on purpose."""


class InputError(NSTError, ValueError):
    """Bad input from the user: an unreadable image, a nonsensical option, a missing file."""


class WeightsError(InputError):
    """Weights that cannot be found, downloaded or read."""


class ResourceError(NSTError):
    """A run that cannot fit the machine (memory) or ran out of it."""
