"""The packed-code conventions every layer relies on."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixdex import Hash
from pixdex import bits as bitops


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=(1 << n) - 1))
    )
)
def test_int_words_bits_hex_round_trip(size_and_value):
    bits, value = size_and_value
    assert bitops.words_to_int(bitops.int_to_words(value, bits)) == value
    assert bitops.bits_to_int(bitops.int_to_bits(value, bits)) == value
    assert bitops.hex_to_int(bitops.int_to_hex(value, bits)) == value
    assert len(bitops.int_to_hex(value, bits)) == -(-bits // 4)


def test_first_bit_is_most_significant_like_imagehash():
    bit_array = np.zeros((8, 8), dtype=bool)
    bit_array[0, 0] = True
    h = Hash.from_bits(bit_array, "dhash")
    assert h.hex == "8000000000000000"
    assert int(h) == 1 << 63
    assert h.words.tolist() == [1 << 63]


def test_256_bit_words_are_most_significant_first():
    h = Hash((1 << 255) | 1, 256, "pdq")
    assert h.words.tolist() == [1 << 63, 0, 0, 1]
    assert Hash.from_hex(h.hex, "pdq") == h


def test_hash_value_semantics():
    a = Hash.from_hex("ffff000000000000")
    b = Hash(0x0FFF000000000001, 64)
    assert a - b == 5
    assert len(a) == 64
    assert str(a) == "ffff000000000000"
    assert {a: 1}[Hash(0xFFFF000000000000, 64, quality=7)] == 1
    with pytest.raises(ValueError):
        _ = a - Hash(0, 256, "pdq")
    with pytest.raises(ValueError):
        Hash.from_hex("xyz")


def test_hamming_matches_python_popcount():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2**63, size=(50, 4), dtype=np.uint64)
    query = codes[7] ^ np.array([1, 3, 0, 1 << 62], dtype=np.uint64)
    expected = [
        sum(bin(int(c) ^ int(q)).count("1") for c, q in zip(row, query, strict=True))
        for row in codes
    ]
    assert bitops.hamming(codes, query).tolist() == expected
    assert bitops.hamming(codes, query)[7] == 4
