"""User-facing error types.

Every error a user can cause (a bad file, a bad argument, a full disk) is raised as a
subclass of :class:`BatikError` with a one-line message in plain words. The CLI prints
that line and exits with status 2; the app shows it in a dialog.
"""


class BatikError(Exception):
    """Base class for errors caused by user input or the environment, never by a bug."""


class ModelFileError(BatikError):
    """A model file is missing, truncated, corrupt, or does not match its config."""


class UnsafePickleError(ModelFileError):
    """A pickle asks for a global outside the allow-list (it could run code)."""


class ImageError(BatikError):
    """An image is unreadable or has an unsupported shape or value range."""


class DatasetError(BatikError):
    """A data set folder or archive cannot be used."""


class ExportError(BatikError):
    """An export cannot be written (too large, unsupported format, disk full)."""


class WeightsMissingError(BatikError):
    """Optional weights (VGG19, Inception) are needed and were not found or are invalid."""
