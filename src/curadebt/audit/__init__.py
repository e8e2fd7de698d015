"""Audit measures and the audit runner.

The package is also callable: ``curadebt.audit(paths, ...)`` is :func:`curadebt.audit.runner.audit`
whether or not this subpackage has been imported (importing it replaces the package attribute
``curadebt.audit``, which would otherwise shadow the top-level function).
"""
import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from curadebt.audit.runner import audit

        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
