"""Pay the debt down: dedup, caps, rebalancing, fact balancing and diversity-first order, with every
decision in a ledger (see docs/curate.md)."""
from curadebt.curate.recipe import Recipe, RecipeError, default_recipe, load_recipe, recipe_from_dict


def curate(*args, **kwargs):
    """Curate a corpus; see :func:`curadebt.curate.runner.curate`."""
    from curadebt.curate.runner import curate as _curate

    return _curate(*args, **kwargs)


def explain(doc_id: str, ledger: str = "ledger.parquet") -> str:
    """One document's history from a ledger, as text."""
    from curadebt.curate.ledger import explain_text, lookup

    return explain_text(lookup(ledger, doc_id))


__all__ = ["curate", "explain", "Recipe", "RecipeError", "default_recipe", "load_recipe", "recipe_from_dict"]
