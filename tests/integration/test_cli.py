"""``python -m agent mask | restore | scan`` as a user runs them (a fresh process each, real files).
Integration tests: each process pays the start-up (packs, detector databases), about a second."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = "vm i-1234567890abcdef0 at 10.0.1.5 in arn:aws:iam::123456789012:role/AppRole\n"


def run(args, stdin: bytes = b"", env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "agent", *args], input=stdin, capture_output=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=60)


@pytest.fixture
def key(tmp_path):
    k = tmp_path / "pseudonym.key"
    k.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    return k


def test_mask_restore_round_trip_text(tmp_path, key):
    map_file = tmp_path / "map.json"
    r = run(["mask", "--key-file", str(key), "--map-out", str(map_file)], TEXT.encode())
    assert r.returncode == 0, r.stderr
    assert b"i-1234567890abcdef0" not in r.stdout and b"123456789012" not in r.stdout
    assert b"123456789012" not in r.stderr and b"i-1234567890abcdef0" not in r.stderr
    assert stat.S_IMODE(map_file.stat().st_mode) == 0o600
    assert set(json.loads(map_file.read_text()).values()) >= {"i-1234567890abcdef0", "123456789012"}
    back = run(["restore", "--map", str(map_file)], r.stdout)
    assert back.returncode == 0 and back.stdout.decode() == TEXT


def test_mask_json_stdin_stays_json_and_env_key(tmp_path, key):
    body = json.dumps({"messages": [{"role": "user", "content": TEXT}]}).encode()
    r = run(["mask"], body, env={"GATEWAY_KEY_FILE": str(key)})
    assert r.returncode == 0, r.stderr
    assert "i-1234567890abcdef0" not in json.loads(r.stdout)["messages"][0]["content"]


def test_same_key_same_output(key):
    a = run(["mask", "--key-file", str(key)], TEXT.encode()).stdout
    b = run(["mask", "--key-file", str(key)], TEXT.encode()).stdout
    assert a == b and a != TEXT.encode()


def test_missing_key_explains_how_to_create_it(tmp_path):
    for args in (["mask"], ["scan", str(tmp_path / "x")]):
        r = run(args, TEXT.encode(), env={"GATEWAY_KEY_FILE": str(tmp_path / "nope.key")})
        assert r.returncode != 0
        assert b"make key" in r.stderr and b"nope.key" in r.stderr


def test_scan_hides_originals_unless_show(tmp_path, key):
    f = tmp_path / "in.txt"
    f.write_text(TEXT)
    r = run(["scan", str(f), "--key-file", str(key)])
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "ec2-id\t1:4\t3-22" in out and "i-1234567890abcdef0" not in out and "123456789012" not in out
    assert "# 4 identifiers" in out
    shown = run(["scan", str(f), "--key-file", str(key), "--show"]).stdout.decode()
    assert "i-1234567890abcdef0" in shown


def test_restore_never_inside_a_longer_token(tmp_path):
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"i-0000000000000000a": "i-1234567890abcdef0"}))
    text = "x i-0000000000000000a y i-0000000000000000ab zi-0000000000000000a\n"
    out = run(["restore", "--map", str(m)], text.encode()).stdout.decode()
    assert out == "x i-1234567890abcdef0 y i-0000000000000000ab zi-0000000000000000a\n"


def test_bad_pack_fails_with_file_and_line(tmp_path, key):
    (tmp_path / "bad.yaml").write_text("detectors:\n  - id: x\n    kind: nope\n")
    r = run(["mask", "--key-file", str(key), "--packs-dir", str(tmp_path)], b"x")
    assert r.returncode != 0 and b"bad.yaml:2" in r.stderr and b"nope" in r.stderr


def test_the_issue_commands_return(tmp_path):
    """The two commands of issue 11, as a user runs them (a fresh process each)."""
    key_file = tmp_path / "pseudonym.key"
    key_file.write_bytes(b"bounded-work-test-key-0123456789abcdef")
    for stdin in (b'{"Name": "eu-west-1a"}', b"S3 bucket us-east-1 is empty\n"):
        r = run(["mask", "--key-file", str(key_file)], stdin)
        assert r.returncode == 0, r.stderr.decode(errors="replace")[-300:]
        assert r.stdout == stdin
