"""The synthetic worlds, generated in code from a seed (nothing downloaded), each with its ground truth:

- :mod:`~curadebt.worlds.demo`: the demo corpus with planted curation debts and a manifest of them;
- :mod:`~curadebt.worlds.facts`: the lab's fact world (facts at exposure tiers, held-out paraphrases);
- :mod:`~curadebt.worlds.attribution`: biographies of invented people whose source documents are
  known, for scoring training-data attribution;
- :mod:`~curadebt.worlds.vocabulary`: the word tables they share.
"""
