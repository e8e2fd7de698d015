"""The held-out wording check on filled-in prompts: shared wording beyond the subject and the answers."""
import pytest

from curadebt.worlds.templates import as_template, ngrams, shared_ngrams, shared_wording


def test_the_near_leak_is_caught():
    # the pair the inertia review found: one inserted word, "the capital" still shared
    assert shared_wording("The capital of France is", "The capital city of France is", ["France"]) == ["the capital"]


def test_structurally_different_prompts_pass():
    assert shared_wording("The capital of France is", "France is governed from the city of", ["France"]) == []
    assert shared_wording("France's capital is", "France, whose capital city is", ["France"]) == []


def test_function_word_ngrams_do_not_count():
    # "of the" and "in its" carry no wording a model could latch onto; the plain check counts them
    assert ("of", "the") not in ngrams("one of the city", 2, content_only=True)
    assert ("of", "the") in ngrams("one of the city", 2)
    assert shared_wording("Most of the time in its heart", "north of the river in its bed") == []
    assert shared_ngrams(["Most of the time"], ["north of the river"]) == {"Most of the time": {("of", "the")}}


def test_ngrams_never_span_or_contain_the_subject_or_answer():
    # "of France is" would join across the subject; "Paris" is the answer
    assert shared_wording("The seat of France is Paris", "Leader of France is Paris", ["France", "Paris"]) == []
    assert shared_wording("New York Times report", "New York Times story", ["New York Times"]) == []
    # without the blank the subject's own words would be shared wording
    assert shared_wording("New York Times report", "New York Times story") == ["new york", "york times"]
    assert as_template("Paris Hilton sang", ["Paris", "Paris Hilton"]).split() == ["{}", "sang"]  # longest first


def test_case_whitespace_punctuation_and_n():
    assert shared_wording("THE  Capital, of X", "the capital; of Y") == ["capital of", "the capital"]
    assert shared_wording("capital of X", "capital of Y", n=3) == []
    assert shared_wording("the capital of X", "the capital of Y", n=3) == ["the capital of"]
    assert shared_wording("Léon Blum's mother tongue is", "the mother tongue of X") == ["mother tongue"]
    with pytest.raises(ValueError):
        ngrams("x", 0)
