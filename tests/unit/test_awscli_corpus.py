"""The AWS CLI's own examples, labelled from botocore's models (tests/awscli_corpus.py): a seeded
sample of the files must reach the recall and precision floors. ``make corpus-report`` runs all of
them and prints per-service numbers.

Floors: the issue's targets are >= 98 % of identifier values masked and <= 0.5 % of non-identifier
values changed. Measured on all labelled files: 98.02 % masked, 0.09 % changed, as text and inside a
request alike (97.86 % before labels whose vocabulary word before the tail is part of a resource
customers create (AssetModelId: CreateAssetModel), owner display names beside an IAM ARN ID, base64
tokens under an ID label, Cloud Map and DynamoDB Streams shard IDs, and two labeller corrections:
values that only spell their member's name are placeholders (PRE_SIGNED_URL, url-string), a quoted
"null" is JSON null, words inside a <multi-word placeholder> are no value; 97.68 % before S3 owner
display names beside a canonical user ID and four labeller corrections, each on its own report line:
AWS itself as the vendor in any case (amazon), AWS-reserved aws: names, Elastic Beanstalk solution
stacks, enum values of a same-named member of the same service; 97.23 % before short SIDs under a
SID label, EC2 IDs spelled ...EXAMPLE, ACM DNS validation tokens, accounts after a region path
segment, enum words under named CLI flags, application-record labels beside an ARN key, JSON list
items competing one by one, and two labeller corrections: Service Quotas ARNs as AWS-owned ARNs
without an account, s3:// access point ARNs labelled as the ARN rather than the word "arn"; 96.99 %
before three labeller corrections, 57 values, each on its own report line: AWS-owned ARNs without an
account, URLs of a host outside AWS without a path, AWS service codes under a service-name member;
97.18 % before a URL under a label gave only its path (its scheme and a non-AWS host are no
identifier); before enum words under AWS-spelled labels were read per label, codecommit's
commit-specifier flags, signed quoted flag values and the same-service doc-constant correction:
96.57 %, 0.09 %; before the generated vocabulary: 54.9 %, 0.31 %; before Windows SIDs, multi-word
names, AWS-defined ARN segments, placeholder-account ARNs and the labeller corrections: 88.7 %, 0.22
%; before AWS resource objects, named CLI flags and application-record labels in AWS objects: 92.7
%, 0.10 %; before parent-key objects, model-named flags and keys and the "default"/vendor
corrections: 94.65 %, 0.10 %; before plural account flags, model keys that no longer run on over the
next key, filter names kept, "Identifier" keys, documented ID paths and the doc-constant,
placeholder, managed-name, positional-word and description corrections: 95.88 %, 0.10 %); this
sample: 98.30 %, 0.19 % (was 97.59 %). The recall floor below is what is achieved today less a
margin, a ratchet to raise, not the target; the change ceiling is the target.
"""

from __future__ import annotations

import re

import pytest

from tests.support.awscli_corpus import (
    _TOKEN,
    Score,
    _not_a_value,
    examples_root,
    load_examples,
    measure,
    not_restored,
    policy_reason,
)
from tests.support.masker_support import masker

pytest.importorskip("awscli")
pytest.importorskip("botocore")

SAMPLE = 600
SEED = 13
RECALL_FLOOR = 0.982
CHANGE_CEILING = 0.005


def test_sample_reaches_the_floors():
    """As plain text, and pasted into a Messages request (escaped inside a JSON string). One test,
    because labelling the sample costs seconds and pytest-xdist would pay it once per worker."""
    examples = load_examples(sample=SAMPLE, seed=SEED)
    assert len(examples) > SAMPLE * 0.8, "the awscli examples were not found or not labelled"
    failures = []
    for as_json, where in ((False, "as text"), (True, "inside a request")):
        total = Score()
        for sc in measure(masker(), examples, as_json=as_json).values():
            total.add(sc)
        assert total.ids > 1000 and total.non_ids > 1000, f"{where}: too few values labelled"
        if total.recall < RECALL_FLOOR:
            failures.append(f"{where}: {total.masked}/{total.ids} identifier values masked "
                            f"({total.recall:.2%}, floor {RECALL_FLOOR:.1%})")
        if total.change_rate > CHANGE_CEILING:
            failures.append(f"{where}: {total.changed}/{total.non_ids} non-identifier values changed "
                            f"({total.change_rate:.2%}, ceiling {CHANGE_CEILING:.1%})")
    assert not failures, "; ".join(failures)


# Examples in the sample that do not restore whole, each by design (tests.support.awscli_corpus
# not_restored): one, by design: a presigned URL whose %2F-encoded token comes back decoded.
ROUND_TRIP_CEILING = 1


def test_sample_restores_whole():
    """restore(mask(x)) == x on AWS's own text: every part masked is a token its pseudonym comes back
    as. It caught pseudonyms spliced twice ('<p><p>' where a propagated value met a part beyond its
    match) and EC2 IDs read inside longer ones (vai-<i- ID>, replacevol-<vol- ID>), whose pseudonyms
    the model wrote back and nothing restored."""
    examples = load_examples(sample=SAMPLE, seed=SEED)
    unrestored = not_restored(masker(), examples)
    assert len(unrestored) <= ROUND_TRIP_CEILING, unrestored


@pytest.mark.parametrize("value,reason", [
    ("us-west-2c", "regions/AZs"), ("us-gov-west-1", "regions/AZs"), ("eu-central-1", "regions/AZs"),
    ("AWS X-Ray", "AWS-owned multi-word names"),
    ("Amazon Elastic Compute Cloud (Amazon EC2)", "AWS-owned multi-word names"),
    ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/x.html", "public AWS docs URLs"),
    ("AWS-RunShellScript", "UUIDs, AWS-owned names"),
    ("com.amazonaws.us-east-1.s3", "AWS service endpoint names and principals"),
    ("codecommit.amazonaws.com", "AWS service endpoint names and principals"),
    ("alias/aws/s3", "AWS managed key aliases"), ("alias/aws-prod/s3", None), ("alias/my-key", None),
    ("AWS#AWSManagedRulesSQLiRuleSet#SQLi_BODY", "AWS managed WAF rule names"), ("MyVendor#MyGroup#rule", None),
    ("com.amazonaws.vpce.us-east-1.vpce-svc-0e123abc123198abc", None), ("my-bucket.s3.amazonaws.com", None),
    ("us-west-2-prod-db", None), ("my-bucket", None), ("AWSome team", None), ("https://example.com/x", None),
    ("https://docs.aws.amazon.com.evil.example/x", None),
])
def test_labeller_policy_corrections(value, reason):
    """Only values the README's policies keep move out of the identifier count, each with its reason."""
    assert policy_reason(value, 0, len(value)) == reason


@pytest.mark.parametrize("text,token,why", [
    ('"SnapshotId": "snap-1"\n "AvailabilityZone": "us-east-2a"', '"AvailabilityZone"', "key"),
    ('"KeyId": null,', "null", "null"),
    ('"CustomKeyStoreId": cks-1234567890abcdef0,', "-1234567890", "fragment"),
    ('"CreatedAt": 2024-02-25T12:30:10,', "2024", "fragment"),
    ('"Count": 5,', "5", None), ('{"Count":5}', "5", None), ('"Id": "-1682899164"', '"-1682899164"', None),
    ('"Enabled": true,', "true", None),
])
def test_labeller_not_a_value(text, token, why):
    m = next(m for m in _TOKEN.finditer(text) if m.group() == token)
    assert _not_a_value(text, m, token) == why


def test_labeller_doc_constants():
    """UPPER_SNAKE values the member's own docs show as code are AWS constants; example names in the
    same docs (<code>my-function</code>) stay identifiers."""
    from types import SimpleNamespace

    from tests.support.awscli_corpus import _doc_constant
    shape = SimpleNamespace(documentation="<p>The name of the resource, such as <code>CPU</code>, "
                                          "<code>PORTS_UDP</code> or <code>my-function</code>.</p>")
    assert _doc_constant(shape, "CPU") and _doc_constant(shape, "PORTS_UDP")
    assert not _doc_constant(shape, "my-function") and not _doc_constant(shape, "GPU")
    assert not _doc_constant(SimpleNamespace(documentation=None), "CPU")
    # plain words the docs list as what the value is; not one given as an example
    listed = SimpleNamespace(documentation="<p>The name of the maintenance track. Possible values are "
                                           "<code>current</code> and <code>trailing</code>.</p>")
    assert _doc_constant(listed, "current") and not _doc_constant(listed, "my-track")
    example = SimpleNamespace(documentation="<p>The name of the federated user (such as <code>Bob</code>).</p>")
    assert not _doc_constant(example, "Bob")
    named = SimpleNamespace(documentation="<p>For example: <code>alias/ExampleAlias</code> or <code>prod</code>.</p>")
    assert not _doc_constant(named, "prod") and not _doc_constant(named, "alias/ExampleAlias")


@pytest.mark.parametrize("value,placeholder", [
    ("(Data store ID)", True), ("arn:aws:iam::(AWS Account ID):role/(Role Name)", True),
    ("sg-########", True), ("[UNDEFINED]", True),
    ("Running On-Demand Standard (A, C, D) instances", False), ("my-#1-queue", False), ("(prod)", False),
])
def test_labeller_documentation_placeholders(value, placeholder):
    """The documentation's stand-ins for a value are no value (counted on their own line)."""
    from tests.support.awscli_corpus import _PLACEHOLDER
    assert bool(_PLACEHOLDER.search(value)) is placeholder


def test_labeller_reads_a_parenthesized_placeholder_as_one_word():
    from tests.support.awscli_corpus import _ARG
    line = "aws healthlake describe-fhir-datastore --datastore-id (Data store ID) --x y"
    assert "(Data store ID)" in [a.group() for a in _ARG.finditer(line)]
    assert "store" not in [a.group() for a in _ARG.finditer(line)]


def test_labeller_positional_word_after_a_one_word_flag():
    """A member that is no list takes one word: what follows (the outfile of get-object) is no value
    of it, counted on its own line; a list member takes every word."""
    from tests.support.awscli_corpus import _CMD, _command_values, _operations
    text = "aws s3api get-object --key a.txt --bucket amzn-s3-demo-bucket output.txt\n"
    out: list = []
    _command_values(text, _CMD.search(text), _operations("s3")["get-object"], "s3api", out)
    got = {text[v.start:v.end]: v.not_a_value for v in out}
    assert got["amzn-s3-demo-bucket"] is None and got["output.txt"] == "positional"
    text = "aws ec2 describe-instances --instance-ids i-1234567890abcdef0 i-0598c7d356eba48d7\n"
    out = []
    _command_values(text, _CMD.search(text), _operations("ec2")["describe-instances"], "ec2", out)
    assert [v.not_a_value for v in out] == [None, None]


def test_labeller_descriptions_are_unclassified():
    """A Description member is prose whatever shape the model reuses for it."""
    from types import SimpleNamespace

    from tests.support.awscli_corpus import classify
    name_shape = SimpleNamespace(type_name="string", enum=None, name="ProvisioningArtifactName")
    assert classify("Description", name_shape) is None
    assert classify("Name", name_shape) is True


# `aws <service> <operation>` as AWS's examples spell every command: the service and the operation are
# AWS's own words. Before session 15, prose-bare-queue-lambda read the operation after `aws lambda` as a
# function's name (`aws lambda update-function-code`: 28 of the 5,709 distinct commands).
_COMMAND = re.compile(r"^[ \t]*aws[ \t]+([a-z0-9-]+)[ \t]+([a-z0-9-]+)(?=[ \t\\]|$)", re.M)


def test_every_command_keeps_its_service_and_operation():
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(examples_root().rglob("*.rst")):
        text = path.read_text(encoding="utf-8")
        for m in _COMMAND.finditer(text):
            end = text.find("\n", m.start())
            seen.setdefault(m.groups(), text[m.start():end if end >= 0 else len(text)])
    assert len(seen) > 5000, f"the AWS CLI's examples are missing: {len(seen)} commands"
    changed = []
    for (service, operation), line in seen.items():
        out = masker().mask_body(line.encode(), "text/plain").body.decode()
        if not re.match(rf"[ \t]*aws[ \t]+{re.escape(service)}[ \t]+{re.escape(operation)}(?=[ \t\\]|$)", out):
            changed.append(f"aws {service} {operation}")
    assert not changed, f"{len(changed)} of {len(seen)} commands changed: {changed[:10]}"
