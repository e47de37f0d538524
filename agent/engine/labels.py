"""Labels as word sets: ``NEXT_PUBLIC_S3_BUCKET``, ``s3Bucket``, ``db-instance-identifier`` and
``DBInstanceIdentifier`` are all the same few words, so one vocabulary of AWS identifier members
(generated from botocore's service models, ``agent/engine/packs/vocab.yaml``) covers every spelling:
CLI flags, JSON keys, SDK arguments, snake_case IaC attributes and environment variables.

``words`` splits a label in one left-to-right regex pass (linear in its length); ``Vocabulary``
says whether a label names an identifier: the label's last words (any prefix before them is free:
``NEXT_PUBLIC_``, ``AWS_``, ``eks_``) must be a member of the vocabulary. A label that is only a
generic word (``name``, ``id``) never qualifies here; detectors that trust such a key (the AWS
CLI's own ``"Name"``) say so explicitly.
"""

from __future__ import annotations

import re

from agent.engine.memo import Memo

# camelCase / PascalCase humps (DBInstance -> DB, Instance), digits kept with the letters before
# them (s3Bucket -> s3, Bucket; Ec2InstanceId -> Ec2, Instance, Id); separators _ - . and space.
_WORD = re.compile(r"[A-Z]{2,}s(?![a-z])|[A-Z]+[0-9]*(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
MAX_WORDS = 6     # vocabulary entries are at most this long; longer labels are matched on their tail
MAX_LABEL = 120


# A plural identifier tail and its singular. The lines of vocab.yaml's aws-label-values ("label
# words|value") are keyed by the singular: tools/gen_vocab.py writes them and vocab.py looks them up
# through the same ``singular``.
_SINGULAR = {"ids": "id", "names": "name", "arns": "arn", "identifiers": "identifier", "urls": "url"}
SINGULAR_TAILS = frozenset(_SINGULAR.values())


def singular(w: tuple[str, ...]) -> tuple[str, ...]:
    """Label words with the last one singular (``user names`` -> ``user name``)."""
    return w[:-1] + (_SINGULAR.get(w[-1], w[-1]),) if w else w


def words(label: str) -> tuple[str, ...]:
    """Lower-case words of a label, in order."""
    return tuple(w.lower() for w in _WORD.findall(label[-MAX_LABEL:]))


def entry(text: str) -> tuple[str, ...]:
    """A vocabulary line ("db instance identifier") as words."""
    return tuple(text.split())


class Vocabulary:
    """Word tuples of identifier labels, matched against a label's last 1..``MAX_WORDS`` words."""

    def __init__(self, entries, blocked=()) -> None:
        self.entries = frozenset(entries)
        # labels of another ecosystem (Kubernetes' serviceAccountName): no shorter tail of them
        # (account name) makes them an AWS label
        self.blocked = frozenset(blocked)
        self.longest = max((len(e) for e in self.entries | self.blocked), default=0)
        # what vocab._label_decision decided for each label seen, under a private key (memo.py)
        self.decisions: Memo[object] = Memo(20_000)

    def matches(self, label_words: tuple[str, ...]) -> bool:
        n = len(label_words)
        for k in range(min(n, self.longest), 0, -1):
            tail = label_words[n - k:]
            if tail in self.entries:
                return True
            if tail in self.blocked:
                return False
        return False

    def __contains__(self, label: str) -> bool:
        return self.matches(words(label))

    def __len__(self) -> int:
        return len(self.entries)


def parse_lines(block: str) -> list[str]:
    """Non-empty, non-comment lines of a generated block scalar."""
    return [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
