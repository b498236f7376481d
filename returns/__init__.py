"""csc-returns: load, validate and emit the DfE children's social care returns."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("csc-returns")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"
