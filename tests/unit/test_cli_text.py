"""``aws ... --output text`` rows, read by the columns botocore's models give each tag
(agent/engine/cli_text.py, packs/text_records.yaml).

The inputs are nobody's here: the AWS CLI's own examples printed by the CLI's own text formatter
(tests/support/cli_text_corpus.py), and responses made up from botocore's output shapes and printed
the same way. Asserted: the share of identifier fields masked and of other fields changed on the
former; on the latter, that no boolean, number, timestamp or enum field is ever changed."""

from __future__ import annotations

import io
import random

import pytest

from agent.engine import cli_text
from tests.support.masker_support import masker

awscli_text = pytest.importorskip("awscli.text")
botocore_session = pytest.importorskip("botocore.session")

from tests.support.awscli_corpus import Score, load_examples, measure  # noqa: E402
from tests.support.cli_text_corpus import text_examples  # noqa: E402

LABELLED = load_examples()
EXAMPLES = list(text_examples(LABELLED))


def _total(scores) -> Score:
    total = Score()
    for sc in scores.values():
        total.add(sc)
    return total


def test_the_cli_examples_printed_as_text_are_masked():
    # Before the text-record reader: 55.4 % masked, 0.105 % changed (11,852 / 21,984 fields).
    total = _total(measure(masker(), EXAMPLES))
    assert total.ids > 10_000 and total.non_ids > 20_000
    assert total.recall >= 0.79, f"{total.recall:.4f} of {total.ids} identifier fields masked"
    assert total.change_rate <= 0.003, f"{total.change_rate:.5f} of {total.non_ids} other fields changed"


def test_the_command_line_reads_the_untagged_row():
    # A response's own scalar members print first, untagged: after "$ aws <service> <operation> ...
    # --output text" their layout is the operation's (79.5 % of the fields masked without the line).
    total = _total(measure(masker(), list(text_examples(LABELLED, command=True))))
    assert total.recall >= 0.85, f"{total.recall:.4f} of {total.ids} identifier fields masked"
    assert total.change_rate <= 0.003


def test_rows_inside_a_json_body_mask_as_in_plain_text():
    sample = random.Random(5).sample(EXAMPLES, 300)
    text, inside = _total(measure(masker(), sample)), _total(measure(masker(), sample, as_json=True))
    assert inside.masked == text.masked   # the rows' tabs and line ends are JSON escapes there
    assert inside.changed <= text.changed   # (plain text has one more: a secret-key reading of an API key header)


# --- made-up responses from the output shapes ------------------------------------------------------
_TYPED = ("boolean", "integer", "long", "float", "double", "timestamp")


def _value(shape, r: random.Random, typed: list[str], depth: int = 0):
    t = shape.type_name
    if t == "structure":
        if depth > 6:
            return {}
        return {name: _value(member, r, typed, depth + 1) for name, member in shape.members.items()
                if r.random() < 0.8}
    if t == "list":
        return [] if depth > 6 else [_value(shape.member, r, typed, depth + 1) for _ in range(r.randint(1, 3))]
    if t == "map":
        return {}
    if t == "boolean":
        value = r.choice(["True", "False"])
    elif t in ("integer", "long"):
        value = str(r.choice([0, 1, 7, 443, 86400, 1073741824]))
    elif t in ("float", "double"):
        value = r.choice(["0.5", "99.9", "1764721063.902"])
    elif t == "timestamp":
        value = r.choice(["2026-03-04T05:06:07Z", "2026-03-04T05:06:07.123000+00:00", "1764721063.902"])
    elif getattr(shape, "enum", None):
        value = r.choice(shape.enum)
        typed.append(value)
        return value
    else:
        return f"kestrel-{r.choice(['orders', 'ledger', 'media'])}-{r.randint(10, 99)}"
    typed.append(value)
    return value


def _responses(n: int, seed: int):
    """``n`` (printed rows, the typed values in them) for random operations of random services."""
    session = botocore_session.get_session()
    r = random.Random(seed)
    services = session.get_available_services()
    out = []
    while len(out) < n:
        model = session.get_service_model(r.choice(services))
        op = model.operation_model(r.choice(model.operation_names))
        if op.output_shape is None:
            continue
        typed: list[str] = []
        data = _value(op.output_shape, r, typed)
        buf = io.StringIO()
        awscli_text.format_text(data, buf)
        if "\t" in buf.getvalue():
            out.append((buf.getvalue(), typed))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_typed_fields_of_any_response_are_never_changed(seed):
    m = masker()
    for printed, typed in _responses(150, seed):
        fields = [f for line in printed.splitlines() for f in line.split("\t")[1:]]
        masked = [f for line in m.mask_body(printed.encode(), "text/plain").body.decode().splitlines()
                  for f in line.split("\t")[1:]]
        assert len(masked) == len(fields)
        changed = {a for a, b in zip(fields, masked, strict=True) if a != b}
        assert not changed & set(typed), printed


# --- the placement table --------------------------------------------------------------------------
def test_a_typed_field_pins_the_columns():
    # a boolean, a name, a timestamp: the one free field is the name (a boolean in the string column costs more)
    assert cli_text._masked_fields(("sbNt",), "BXT", 10_000)[0] == ((1, "name", True),)
    # a string column beside the name: either may hold it (masked only if it reads as a name someone chose)
    assert cli_text._masked_fields(("bsNt",), "BXT", 10_000)[0] == ((1, "name", False),)
    # an enum value where the name or an enum column may stand: not masked
    assert cli_text._masked_fields(("beNt",), "BET", 10_000)[0] == ()
    # a row no layout takes masks nothing
    assert cli_text._masked_fields(("bNt",), "TXB", 10_000)[0] == ()


def test_work_is_bounded_per_text_and_only_finished_work_is_remembered():
    records = cli_text.TextRecords(["ROWS " + " ".join("sN" * k + "t" for k in range(1, 40))])
    assert cli_text._masked_fields(records.layouts["ROWS"], "X" * 30, 100)[0] is None
    text = "ROWS\t..."
    records._text_id, records._work_left = id(text), 100
    assert records.masked_fields(text, "ROWS", "X" * 30) == ()
    assert ("ROWS", "X" * 30) not in records._placed       # not a result: the next text works it out
    other = "another text"
    found = records.masked_fields(other, "ROWS", "X" * 30)
    assert records._placed[("ROWS", "X" * 30)] == found     # keyed by the tag and shapes: no value


@pytest.mark.parametrize("text,name", [
    # the operation's untagged row: its ARNs are the ARN detector's, the function's name is the row's
    ("$ aws lambda get-function-configuration --function-name x --output text\n"
     "5tT2qgzYUHaqwR716pZ2dpkn/0J1FrzJmlKidWoaCgk=\t304\t\tarn:aws:lambda:eu-west-1:384756192837:function:"
     "ingest-orders-prod\tingest-orders-prod\tapp.handler\t2024-05-01T10:00:00.438+0000\t256\t"
     "e52502d4-9320-4688-9cd6-152a6ab7490d\tarn:aws:iam::384756192837:role/ingest-exec\tpython3.12\t3\t$LATEST\n",
     "ingest-orders-prod"),
    # a YAML list whose other item is an ARN another detector reads
    ("TableNames:\n- arn:aws:dynamodb:eu-west-1:384756192837:table/ledger-2024\n- sessions-prod-7\n",
     "sessions-prod-7"),
])
def test_each_field_competes_on_its_own(text, name):
    # a row or list is one match: had it competed as a whole, the ARN inside would have hidden the rest
    assert name not in masker().mask_body(text.encode(), "text/plain").body.decode()
