"""asyncmigrate: move a codebase from a sync persistence facade to async repositories."""

__version__ = "0.1.0"


def installed_version() -> str:
    """The installed distribution's version (what pip reports), else the source tree's ``__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("asyncmigrate")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return __version__
