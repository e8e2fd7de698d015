"""The curate ops, one module each (two for a pair that shares its logic: exact/near dedup, entity/
token caps). A module registers its op class with :func:`curadebt.curation.op.register_op`; adding
an op is adding a module here (or one named in the ``curadebt.ops`` entry-point group)."""
