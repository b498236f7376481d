"""Errors that stop a run with exit code 2 and one clear message (never a traceback)."""


class LoadError(Exception):
    """An input could not be read at all (names the file, and the line where known)."""


class UsageError(Exception):
    """The command line asks for something the toolkit cannot do (unknown year, no inputs...)."""
