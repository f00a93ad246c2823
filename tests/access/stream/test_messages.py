"""The frame envelope: round trip, the byte layout, and every way a frame can be wrong."""

from __future__ import annotations

import secrets
import struct

import pytest

from kraken_market.access.stream import errors
from kraken_market.access.stream.messages import (
    HEADER_BYTES,
    MIN_FRAME_BYTES,
    FrameHeader,
    SequenceGuard,
    open_frame,
    parse_header,
    seal,
)
from kraken_market.errors import InvalidRequest, KrakenError

PRODUCT = bytes(range(32))
KEY = bytes(32 * [7])


def header(seq: int = 1, epoch: int = 5, product: bytes = PRODUCT) -> FrameHeader:
    return FrameHeader(product, epoch, seq, 1_800_000_000_000)


def test_a_frame_opens_to_its_message_and_header() -> None:
    frame = seal(header(), KEY, b"heart rate 61")
    assert len(frame) == HEADER_BYTES + len(b"heart rate 61") + 16
    opened = open_frame(frame, KEY, product=PRODUCT)
    assert opened.payload == b"heart rate 61"
    assert (opened.seq, opened.epoch, opened.timestamp_ms) == (1, 5, 1_800_000_000_000)
    assert parse_header(frame) == header()
    assert open_frame(seal(header(), KEY, b""), KEY).payload == b""


def test_the_layout_is_the_documented_one() -> None:
    frame = seal(FrameHeader(PRODUCT, 2**40 + 3, 9, 1234), KEY, b"x")
    assert frame[:4] == b"KMS\x01"
    assert frame[4:36] == PRODUCT
    assert struct.unpack(">QQQ", frame[36:60]) == (2**40 + 3, 9, 1234)
    # nonce: low 32 bits of the epoch, then the 64-bit sequence number (SP 800-38D §8.2.1)
    assert FrameHeader(PRODUCT, 2**40 + 3, 9, 1234).nonce == struct.pack(">IQ", 3, 9)


def test_equal_messages_give_different_frames_at_different_positions() -> None:
    assert seal(header(1), KEY, b"same")[HEADER_BYTES:] != seal(header(2), KEY, b"same")[60:]


@pytest.mark.parametrize(
    "position",
    [0, 3, 4, 20, 40, 50, 58, HEADER_BYTES, HEADER_BYTES + 2, -1],
    ids=["magic", "version", "product", "product2", "epoch", "seq", "time", "body", "body2", "tag"],
)
def test_any_changed_byte_is_refused(position: int) -> None:
    frame = bytearray(seal(header(), KEY, b"a message of some length"))
    frame[position] ^= 0x01
    with pytest.raises(errors.FrameInvalid) as caught:
        open_frame(bytes(frame), KEY, product=PRODUCT)
    expected = {
        0: "frame_malformed",
        3: "frame_version_unsupported",
        4: "frame_wrong_product",
        20: "frame_wrong_product",
    }.get(position, "frame_tampered")
    assert caught.value.code == expected


def test_header_changes_fail_the_tag_even_for_a_reader_that_does_not_check_the_product() -> None:
    frame = bytearray(seal(header(), KEY, b"m"))
    frame[10] ^= 0xFF
    with pytest.raises(errors.FrameTampered):
        open_frame(bytes(frame), KEY)


def test_a_header_moved_to_another_frame_is_refused() -> None:
    one, two = seal(header(1), KEY, b"first"), seal(header(2), KEY, b"second")
    spliced = one[:HEADER_BYTES] + two[HEADER_BYTES:]
    with pytest.raises(errors.FrameTampered):
        open_frame(spliced, KEY)


def test_the_key_of_another_epoch_does_not_open_a_frame() -> None:
    frame = seal(header(epoch=5), KEY, b"m")
    with pytest.raises(errors.FrameTampered) as caught:
        open_frame(frame, secrets.token_bytes(32))
    assert caught.value.details == {"epoch": 5, "seq": 1}


def test_truncated_and_foreign_bytes_are_malformed() -> None:
    frame = seal(header(), KEY, b"m")
    for broken in (b"", frame[: MIN_FRAME_BYTES - 1], b"XYZ" + frame[3:]):
        with pytest.raises(errors.FrameMalformed):
            parse_header(broken)
    with pytest.raises(errors.FrameTampered):
        open_frame(frame[:-1], KEY)
    with pytest.raises(errors.FrameTampered):
        open_frame(frame + b"\x00", KEY)


def test_header_fields_are_range_checked() -> None:
    with pytest.raises(errors.FrameMalformed):
        FrameHeader(PRODUCT[:31], 1, 1, 1)
    for field in ("epoch", "seq", "timestamp_ms"):
        values = {"epoch": 1, "seq": 1, "timestamp_ms": 1, field: 2**63}
        with pytest.raises(errors.FrameMalformed):
            FrameHeader(PRODUCT, **values)
        values[field] = -1
        with pytest.raises(errors.FrameMalformed):
            FrameHeader(PRODUCT, **values)
    with pytest.raises(ValueError, match="32 bytes"):
        seal(header(), KEY[:16], b"m")


def test_the_guard_refuses_replays_reordering_and_older_epochs() -> None:
    guard = SequenceGuard()
    guard.check(header(1, epoch=5))
    guard.advance(header(1, epoch=5))
    with pytest.raises(errors.FrameReplayed) as replay:
        guard.check(header(1, epoch=5))
    assert replay.value.details == {"seq": 1, "last_seq": 1}
    guard.check(header(3, epoch=6))
    guard.advance(header(3, epoch=6))
    with pytest.raises(errors.FrameReplayed):
        guard.check(header(2, epoch=6))  # arrived after frame 3: reordered
    with pytest.raises(errors.FrameEpochRegressed):
        guard.check(header(4, epoch=5))
    guard.check(header(10, epoch=6))  # gaps are allowed (late join, bounded retention)


def test_every_frame_error_is_a_422_with_its_own_code() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert all(code in (errors.__doc__ or "") for code in codes)
    for cls in classes:
        assert issubclass(cls, KrakenError)
        if issubclass(cls, errors.FrameInvalid):
            assert issubclass(cls, InvalidRequest) and cls.status == 422


def test_all_names_every_error() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and value.__module__ == errors.__name__
    }
    assert defined | {"PaymentRequired"} == set(errors.__all__)
