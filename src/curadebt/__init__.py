"""curadebt: find, measure and pay down data curation debt in language-model training sets."""
__version__ = "0.1.0"


def audit(*args, **kwargs):
    """Audit a corpus; see :func:`curadebt.audit.runner.audit` for the arguments."""
    from curadebt.audit.runner import audit as _audit

    return _audit(*args, **kwargs)


__all__ = ["audit", "__version__"]
