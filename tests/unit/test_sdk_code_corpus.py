"""SDK calls made from botocore's input shapes in five languages (tests/support/sdk_code_corpus.py):
the same call masks the same whatever SDK spells it, and AWS enum values in it stay."""

from __future__ import annotations

import pytest

from tests.support.awscli_corpus import Score, measure
from tests.support.masker_support import masker

sdk_code_corpus = pytest.importorskip("tests.support.sdk_code_corpus")
if sdk_code_corpus.botocore is None:  # pragma: no cover - dev dependencies
    pytest.skip("botocore is not installed", allow_module_level=True)

CALLS = sdk_code_corpus.examples(operations=300, seed=29)


def _total(language: str, as_json: bool = False) -> Score:
    total = Score()
    for sc in measure(masker(), CALLS[language], as_json=as_json).values():
        total.add(sc)
    return total


@pytest.mark.parametrize("as_json", [False, True])
def test_every_sdk_spelling_masks_what_boto3s_does(as_json):
    # Before session 16, Go's AccountId: aws.String("..."), Java's .expectedBucketOwner("...") and Rust's
    # .account_ids(vec![...]) kept the account: 3-4 points below boto3.
    boto3 = _total("boto3", as_json)
    assert boto3.ids > 300 and boto3.recall >= 0.78
    for language in sdk_code_corpus.LANGUAGES:
        total = _total(language, as_json)
        assert total.ids == boto3.ids
        assert total.recall >= boto3.recall - 0.015, f"{language}: {total.recall:.3f} vs boto3 {boto3.recall:.3f}"
        assert total.changed == 0, f"{language}: an AWS enum value was changed"
