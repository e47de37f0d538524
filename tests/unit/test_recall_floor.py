"""A seeded sample of the generated artifacts (tests/support/recall_artifacts.py) through the real
Masker, as text and as a JSON Messages body: the recall floors reached per class (issue 13) hold,
and the negative set comes through unchanged. ``make recall-report`` prints the full table."""

from __future__ import annotations

import pytest

from tests.support.masker_support import masker
from tests.support.recall_artifacts import CLASSES, HELD_OUT, as_read_tool_output, generate, measure, recall

STATS = measure(masker(), generate(seed=7, per_template=1))
# Floors reached (recall = share of must-mask values gone in both modes). The main classes are at
# 100 %. Each held-out set was measured when written, then fixed by class (docs/TESTING.md); on seed 7
# now: variants-1 100 %, variants-2 96 %, variants-3 99.2 %, variants-4 99.5 %, variants-5 98.0 %,
# variants-6 97.1 %, every must-keep kept in all six (variants-5 kept 93.2 % when written); variants-7 as
# written (session 9): 85.4 %, 61 of 68 must-keep cases kept; 98.1 %, 68 of 68 after its fixes by class;
# variants-8 as written (session 9): 78.7 %, 61 of 64 must-keep cases kept; fixed by class: 93.3 %, 63 of 64;
# variants-9 as written (session 10): 82.9 %, 59 of 68 kept; fixed by class: 100 %, 68 of 68 (seeds 7, 13, 29);
# variants-10 as written (session 10): 74.9 %, 56 of 61 kept; fixed by class: 98.9 %, 61 of 61 (a Prowler finding
# UID's resource name is left: its pseudonym would not restore after "<region>-", the fuzz lane found);
# variants-11 as written (session 11): 75.5 % (text 75.6 %, JSON 75.3 %), 58 of 65 must-keep cases kept; fixed by
# class: 98.9 %, 65 of 65 (seeds 7, 13, 29; the Jupyter notebook's unlabelled stdout and DataFrame cells are left).
# variants-12 as written (session 11), kept unfixed: 81.2 % (199 of 245 values), 40 of 64 cases pass, 60 of 64
# must-keep cases kept (seed 13: 82.2 %, 63.8 % pass, 93.8 % kept); after variants-11's fixes, unchanged (82.2 %).
# Fixed by class in session 12 (two fixers, 12 detectors): 95.9 % (seed 13: 96.2 %, 89.1 % pass), 61 of 64 kept;
# variants-13 and -14, written before those fixes and never shown to the fixers, moved 84.9 -> 85.0 % and
# 83.1 -> 83.2 %: a class fixed in one kind of text still did not carry to others.
# variants-13 as written (session 12), kept unfixed: 84.8 % (201 of 237 values), 32 of 64 cases pass, 54 of 64
# must-keep cases kept (seed 13: 84.9 %, 50.0 % pass, 84.4 % kept); the documentation placeholders and ranges then
# relabelled (not must-keep: the README's default policies mask them): 57 of 64 kept (seed 13: 89.1 %).
# Fixed by class in session 12 (fixers C and D, 26 detectors, and the log file stems): 98.3 % (seed 13: 98.6 %,
# 88.4 % pass), 60 of 64 kept; variants-14, never shown to them, 83.3 -> 86.6 % (seed 13: 83.2 -> 86.3 %).
# variants-14 (session 12, a second writer, apart from variants-13's) as written: 83.0 % (229 of 276 values), 26 of 64
# pass, 55 of 64 must-keep cases kept (seed 13: 83.2 %, 40.6 % pass, 85.9 % kept); two of its leaks fixed in the engine
# (a secret in an `aws configure` transcript; an API Gateway integration URI's path masked as names) and its
# documentation placeholders relabelled: 83.3 % (seed 13: 83.1 %), 57 of 64 kept.
FLOORS = {cls: 1.0 for cls in CLASSES if cls != "negatives"}
HELD_OUT_FLOORS = {"variants-1": 0.98, "variants-2": 0.94, "variants-3": 0.97, "variants-4": 0.99, "variants-5": 0.975,
                   "variants-6": 0.97, "variants-7": 0.98, "variants-8": 0.92,
                   "variants-9": 0.98, "variants-10": 0.98, "variants-11": 0.98, "variants-12": 0.96,
                   "variants-13": 0.98, "variants-14": 0.985, "variants-15": 0.93,
                   "variants-16": 0.975, "variants-17": 0.96, "variants-18": 0.0,
                   "variants-19": 0.0, "variants-20": 0.0, "variants-21": 0.96}
# Share of cases whose must-keep values all come through: 1.0 for the first six sets; variants-7 measured
# 61 of 68 when written (X-Ray IDs, a state name, a container ID, exception names changed), 1.0 since
# they pass by class (vocab.py's _per_request_or_code, splitters.in_state_object); variants-8: 63 of 64
# (the private CIDR of a Config query result is masked, as the IP policy masks every private address; the
# KMS policy Id, the statement ID and the query's field names are kept now).
# variants-11 as written: 58 of 65 (0.892; an RDS CA identifier, an AWS-owned hosted zone ID and EKS registry
# account, a Pulumi ManagedPolicy constant, a SAM changeset name and a private CIDR changed), 65 of 65 fixed by
# class (the CIDR relabelled: the IP policy masks every private address); variants-12 as written: 60 of 64
# (the SES message ID, the SES outbound IP, a Security Hub finding UUID, the Go SDK's default session name changed).
# variants-13 as written: 54 of 64 (a Step Functions state name, AWSBackupDefaultServiceRole, a Health event type
# code, example domains in ACM and Route 53 records, an SNS Endpoint e-mail, documentation IPs, the AWS
# documentation placeholders and the Maven groupId software.amazon.awssdk changed); 57 of 64 once the documentation
# placeholders and ranges were relabelled (documentation_examples / documentation_ranges: mask by default).
# variants-14 as written: 83.2 % recall, 85.9 % kept; fixed by class in session 13 (fixers A and B): 99.3 %, 64 of 64
# (seed 7). variants-15 as written (session 13): 82.6 % recall, 61 of 64 kept; fixed by class (fixers C and D):
# 93.4 %, 63 of 64. variants-16 as written (session 13, kept unfixed as the next measure): 82.6 % recall, 61 of
# 64 kept (83.3 % after variants-15's fixes, which never saw it). variants-17 as written (session 15, kept unfixed as
# the next measure): 76.6 % recall, 59 of 64 kept (seed 13: 76.7 %, 43.1 % pass, 92.2 % kept). variants-18 as written
# (session 15, kept unfixed as the next measure): 81.2 % recall (text 81.3 %, JSON 81.0 %), 56 of 64 kept (seed 13:
# 81.2 % text, 80.9 % JSON, 33.4 % pass, 87.5 % kept). Session 15 fixed variants-16 by class (fixers A and B):
# 97.8 %, 63 of 64 kept (the AWS Health event ID in #15 is masked by design); variants-17 by class (fixers C and
# D): 96.5 %, 64 of 64. variants-18, never shown to a fixer, moved with them: 81.2 -> 84.0 % (seed 13: 81.2 -> 83.5 %).
# variants-19 as written (session 16, the mainstream of pasted AWS text, kept unfixed as the next measure): 89.5 %
# recall (text and JSON), 62 of 64 kept (seed 13: 89.1 % text, 89.1 % JSON, 50.9 % pass, 97.5 % kept).
# variants-20 as written (session 16, the classes of a recall audit re-created from its description, kept unfixed as the
# next measure): 85.6 % recall (text 85.6 %, JSON 85.6 %), 64 of 64 kept (seed 13: 84.8 % text, 84.8 % JSON,
# 45.3 % pass, 99.1 % kept).
# variants-21 as written (session 17, a week of a platform engineer's Claude Code sessions on AWS, kept unfixed as the
# next measure): 93.3 % recall (text 93.5 %, JSON 93.1 %), 60 of 65 kept (seed 13: 93.6 % text, 93.2 % JSON,
# 64.0 % pass, 92.0 % kept). Fixed by class in the same session (its misses' classes: CloudFormation's error wordings,
# the aws s3 ls listing, CDK stack ids, account maps in code, flat --query tables, SSM parameter calls, service
# principals and OIDC issuers kept ...): 97.0 %, 63 of 65 kept (seed 13: 97.2 % text, 96.8 % JSON, 96.9 % kept); the
# two still changed are Trusted Advisor's check IDs under "checkId" (#39) and one CSV header in a JSON body (#14).
HELD_OUT_KEPT_FLOORS: dict[str, float] = {"variants-7": 1.0, "variants-8": 0.984, "variants-9": 1.0, "variants-10": 1.0,
                                          "variants-11": 1.0, "variants-12": 0.953,
                                          "variants-13": 0.937, "variants-14": 1.0, "variants-15": 0.984,
                                          "variants-16": 0.984, "variants-17": 1.0, "variants-18": 0.0,
                                          "variants-19": 0.0, "variants-20": 0.0, "variants-21": 0.969}


@pytest.mark.parametrize("cls", sorted(FLOORS))
def test_recall_floor(cls):
    s = STATS[cls]
    assert recall(s) >= FLOORS[cls], f"{cls}: recall {recall(s):.1%} below {FLOORS[cls]:.0%}"
    assert s.kept == s.keeps, f"{cls}: a must-keep value was changed"


def test_negatives_all_kept():
    s = STATS["negatives"]
    assert s.kept == s.keeps == s.cases and s.passed == s.cases
    assert recall(s) == 1.0


def test_variants_floor():
    assert set(HELD_OUT_FLOORS) == set(HELD_OUT), "every held-out set has a floor"
    stats = measure(masker(), generate(seed=7, per_template=1, classes=HELD_OUT))
    for cls, floor in HELD_OUT_FLOORS.items():
        assert recall(stats[cls]) >= floor, f"{cls}: recall {recall(stats[cls]):.1%}"
        kept_floor = HELD_OUT_KEPT_FLOORS.get(cls, 1.0)
        assert stats[cls].kept >= kept_floor * stats[cls].keeps, f"{cls}: a must-keep value was changed"


def test_classes_as_read_tool_output():
    """Every class again as Claude Code's Read tool shows a file (line numbers and arrows before
    each line): the same floors, every must-keep kept."""
    stats = measure(masker(), as_read_tool_output(generate(seed=7, per_template=1)))
    for cls, floor in FLOORS.items():
        assert recall(stats[cls]) >= floor, f"{cls} as Read-tool output: recall {recall(stats[cls]):.1%}"
        assert stats[cls].kept == stats[cls].keeps, f"{cls} as Read-tool output: a must-keep value was changed"
