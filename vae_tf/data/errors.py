"""Exceptions raised by the data loaders."""


class DataError(ValueError):
    """The data exist but are unusable (corrupt, wrong shape, bad values)."""


class DataNotFoundError(DataError, FileNotFoundError):
    """The data set could not be found; the message lists where we looked."""
