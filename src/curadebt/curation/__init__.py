"""Pay the debt down: dedup, caps, rebalancing, fact balancing, normalization and diversity-first order,
with every decision in a ledger (see docs/curate.md). The entry point is :func:`curadebt.curate`."""
from curadebt.curation.recipe import Recipe, RecipeError, default_recipe, load_recipe, recipe_from_dict

__all__ = ["Recipe", "RecipeError", "default_recipe", "load_recipe", "recipe_from_dict"]
