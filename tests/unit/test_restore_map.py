"""The restore map's wire format: what ``encode`` accepts is exactly what the Lua filter can put back
unescaped (printable ASCII, no space, ``"`` or ``\\``, on both sides), and its refusal never quotes a token."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.engine import restore_map
from agent.engine.restore_map import RestoreMapError
from tests.support.effort import examples

_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')


def _entry_safe(token: str) -> bool:
    return bool(token) and all(c in _SAFE for c in token)


@pytest.mark.parametrize("bad", [" ", "\t", "\n", '"', "\\", "\x7f", "\x00", "\u00e9", ""])
@pytest.mark.parametrize("side", ["pseudonym", "original"])
def test_refuses_each_unsafe_character_on_either_side(bad, side):
    secret = "481516234200"
    token = secret[:6] + bad + secret[6:] if bad else ""
    entry = {token: "AKIAEXAMPLE"} if side == "pseudonym" else {"999999999999": token}
    with pytest.raises(RestoreMapError) as err:
        restore_map.encode({"123456789012": "210987654321", **entry})
    assert side in str(err.value) and secret[:6] not in str(err.value)


@settings(max_examples=examples(400), deadline=None)
@given(st.dictionaries(st.text(_SAFE + ' \t\n"\\\u00e9', max_size=5), st.text(_SAFE + ' \t\n"\\\u00e9', max_size=5),
                       max_size=4))
def test_accepts_exactly_the_maps_whose_every_entry_is_safe(mapping):
    safe = all(_entry_safe(p) and _entry_safe(o) for p, o in mapping.items())
    if not safe:
        with pytest.raises(RestoreMapError):
            restore_map.encode(mapping)
        return
    assert restore_map.decode(restore_map.encode(mapping)) == mapping
