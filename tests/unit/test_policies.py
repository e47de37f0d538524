"""The policies of README "Policies": each switch in config.yaml, both settings, through the real Masker."""

from __future__ import annotations

import pytest

from agent.engine.masker import Masker
from agent.engine.settings import ConfigError, MaskConfig, load_config
from tests.support.masker_support import TEST_KEY, message_text, request, shipped_packs

PACKS = shipped_packs()


def _out(text: str, **policy) -> tuple[str, str]:
    m = Masker(TEST_KEY, PACKS, MaskConfig(**policy))
    plain = m.mask_body(text.encode(), "text/plain").body.decode()
    return plain, message_text(m.mask_body(request(text), "application/json").body)


# (switch, default, other, text, value the switch governs, a value masked either way)
CASES = [
    ("unlabelled_accounts", "keep", "mask", "Order 481516234200 shipped from vpc-0a1b2c3d4e5f60718",
     "481516234200", "vpc-0a1b2c3d4e5f60718"),
    ("documentation_examples", "mask", "keep",
     "key AKIAIOSFODNN7EXAMPLE for account 123456789012 in AWS account 555012345678",
     "123456789012", "555012345678"),
    ("documentation_ranges", "mask", "keep", "ssh to 203.0.113.25, then 54.210.17.9",
     "203.0.113.25", "54.210.17.9"),
    ("documentation_ranges", "mask", "keep", "allow 198.51.100.0/25 and 2001:db8:8000::/33, not 54.210.16.0/20",
     "198.51.100.0/25", "54.210.16.0/20"),
    ("public_resolvers", "keep", "mask", "nameserver 8.8.8.8 and host 54.210.17.9",
     "8.8.8.8", "54.210.17.9"),
    ("aws_constants", "keep", "mask",
     '"CanonicalHostedZoneId": "Z35SXDOTRQ7X7K", "HostedZoneId": "Z08750523VFZNP7TPLVEO"',
     "Z35SXDOTRQ7X7K", "Z08750523VFZNP7TPLVEO"),
]


@pytest.mark.parametrize("switch,default,other,text,governed,always", CASES, ids=[c[0] for c in CASES])
def test_policy_both_settings(switch, default, other, text, governed, always):
    assert getattr(MaskConfig(), switch) == default
    for setting in (default, other):
        for out in _out(text, **{switch: setting}):
            assert always not in out
            kept = (setting == "keep")
            assert (governed in out) == kept, f"{switch}: {setting}"


def test_labelled_or_arn_account_masked_everywhere_even_when_unlabelled_kept():
    text = "Order 481516234200; arn:aws:iam::481516234200:role/x; also 481516234200 again"
    for out in _out(text):
        assert "481516234200" not in out


def test_example_key_pair_kept_together():
    text = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert all("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" not in o for o in _out(text))
    assert all("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" in o for o in _out(text, documentation_examples="keep"))


def test_config_file_reads_policies_and_refuses_bad_values(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text("unlabelled_accounts: mask\npublic_resolvers: mask\n")
    cfg = load_config(f)
    assert cfg.unlabelled_accounts == "mask" and cfg.public_resolvers == "mask" and cfg.aws_constants == "keep"
    f.write_text("aws_constants: maybe\n")
    with pytest.raises(ConfigError, match=r"config.yaml:1: aws_constants must be one of"):
        load_config(f)


def test_an_allowed_address_keeps_its_network():
    text = "peer 10.1.2.0/24 and 10.9.8.0/24"
    for out in _out(text, allow=frozenset({"10.1.2.0"})):
        assert "10.1.2.0/24" in out and "10.9.8.0" not in out
