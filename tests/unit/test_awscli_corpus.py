"""The AWS CLI's own examples, labelled from botocore's models (tests/awscli_corpus.py): a seeded
sample of the files must reach the recall and precision floors. ``make corpus-report`` runs all of
them and prints per-service numbers.

Floors: the issue's targets are >= 98 % of identifier values masked and <= 0.5 % of non-identifier
values changed. Measured on all labelled files: 88.7 % masked, 0.20 % changed, as text and inside
a request alike (before the generated vocabulary: 54.9 %, 0.31 %); this sample: 90.1 %, 0.08 %.
The recall floor below is what is achieved today less a margin, a ratchet to raise, not the
target; the change ceiling is the target.
"""

from __future__ import annotations

import pytest

from tests.support.awscli_corpus import Score, load_examples, measure
from tests.support.masker_support import masker

pytest.importorskip("awscli")
pytest.importorskip("botocore")

SAMPLE = 600
SEED = 13
RECALL_FLOOR = 0.88
CHANGE_CEILING = 0.005


@pytest.fixture(scope="module", params=[False, True], ids=["text", "json"])
def scores(request):
    """As plain text, and pasted into a Messages request (escaped inside a JSON string)."""
    examples = load_examples(sample=SAMPLE, seed=SEED)
    assert len(examples) > SAMPLE * 0.8, "the awscli examples were not found or not labelled"
    total = Score()
    for sc in measure(masker(), examples, as_json=request.param).values():
        total.add(sc)
    return total


def test_identifier_values_masked(scores):
    assert scores.ids > 1000
    assert scores.recall >= RECALL_FLOOR, f"{scores.masked}/{scores.ids} identifier values masked"


def test_non_identifier_values_kept(scores):
    assert scores.non_ids > 1000
    assert scores.change_rate <= CHANGE_CEILING, f"{scores.changed}/{scores.non_ids} non-identifier values changed"
