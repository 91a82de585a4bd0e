"""The real serial driver against the emulator over a pseudo-terminal and TCP, and the fake."""

from __future__ import annotations

import threading
import time

import pytest

from drivers.idcard import (
    SAMPLES,
    CardError,
    CardPoller,
    FakeIdCardReader,
    IdCardEmulator,
    ReaderUnavailable,
    open_reader,
)


@pytest.fixture
def pty_emulator():
    with IdCardEmulator(cards=[SAMPLES["zhangsan"], SAMPLES["foreign2023"]]) as emu:
        yield emu


def test_reads_over_a_pseudo_terminal_once_per_swipe(pty_emulator) -> None:
    assert pty_emulator.url.startswith("serial:///dev/")
    with open_reader(pty_emulator.url) as reader:
        card = reader.read_card(timeout=2)
        assert card == SAMPLES["zhangsan"]
        assert card.photo == SAMPLES["zhangsan"].photo  # photo carries a preamble inside
        assert reader.read_card(timeout=0.3) is None  # still on the reader: no second read
        pty_emulator.remove()
        assert reader.read_card(timeout=0) is None
        pty_emulator.place()
        assert reader.read_card(timeout=2) == SAMPLES["foreign2023"]
        assert reader.health().state == "ok"
    assert pty_emulator.reads == 2


def test_reads_over_tcp() -> None:
    with IdCardEmulator(cards=[SAMPLES["hk"]], transport="tcp") as emu:
        assert emu.url.startswith("tcp://127.0.0.1:")
        with open_reader(emu.url) as reader:
            assert reader.read_card(timeout=2) == SAMPLES["hk"]


def test_card_placed_while_waiting_is_read(pty_emulator) -> None:
    pty_emulator.remove()
    threading.Timer(0.3, pty_emulator.place, args=(SAMPLES["lisi"],)).start()
    with open_reader(pty_emulator.url) as reader:
        started = time.monotonic()
        assert reader.read_card(timeout=3) == SAMPLES["lisi"]
        assert time.monotonic() - started < 1.5


def test_resynchronises_after_line_noise(pty_emulator) -> None:
    pty_emulator.sam.noise_before = b"\x00\xff\xaa\xaa\x13\x37\xaa"
    with open_reader(pty_emulator.url) as reader:
        assert reader.read_card(timeout=2) == SAMPLES["zhangsan"]


def test_retries_a_frame_with_a_bad_checksum(pty_emulator) -> None:
    pty_emulator.sam.corrupt_responses = 1
    with open_reader(pty_emulator.url) as reader:
        assert reader.read_card(timeout=2) == SAMPLES["zhangsan"]
    assert pty_emulator.reads == 1


def test_persistent_corruption_is_a_reader_error(pty_emulator) -> None:
    pty_emulator.sam.corrupt_responses = 100
    with open_reader(pty_emulator.url) as reader, pytest.raises(ReaderUnavailable) as err:
        reader.read_card(timeout=0)
    assert err.value.code == "line_noise"


def test_silent_reader_is_no_answer_and_health_error() -> None:
    reader = FakeIdCardReader(command_timeout=0.2)
    reader.set_connected(False)
    with pytest.raises(ReaderUnavailable) as err:
        reader.read_card(timeout=0)
    assert err.value.code == "no_answer" and "无响应" in err.value.message
    health = reader.health()
    assert health.state == "error" and health.reason == "no_answer"


def test_failed_read_is_a_card_error_and_the_card_stays_readable() -> None:
    reader = FakeIdCardReader(SAMPLES["lisi"])
    reader.sam.fail_reads = 1
    with pytest.raises(CardError) as err:
        reader.read_card(timeout=0)
    assert err.value.code == "read_failed" and "重新放置" in err.value.message
    assert reader.read_card(timeout=0) == SAMPLES["lisi"]


def test_missing_port_is_reader_unavailable() -> None:
    reader = open_reader("serial:///dev/does-not-exist-hall")
    with pytest.raises(ReaderUnavailable) as err:
        reader.read_card(timeout=0)
    assert err.value.code == "port_open_failed"
    assert reader.health().state == "error"


def test_fake_url_with_a_sample_card() -> None:
    reader = open_reader("fake://?card=wangwu")
    assert reader.read_card(timeout=0) == SAMPLES["wangwu"]
    assert reader.read_card(timeout=0) is None


def test_poller_reports_card_error_and_back_within_its_interval() -> None:
    reader = FakeIdCardReader(command_timeout=0.1)
    events: list[tuple[str, object]] = []
    seen = threading.Event()

    def on_card(card) -> None:
        events.append(("card", card.name))
        seen.set()

    poller = CardPoller(
        reader,
        interval=0.05,
        on_card=on_card,
        on_error=lambda e: events.append(("error", e.code)),
        on_back=lambda: events.append(("back", None)),
    )
    poller.start()
    try:
        placed = time.monotonic()
        reader.place(SAMPLES["ouyang"])
        assert seen.wait(2)
        assert time.monotonic() - placed < 0.3  # the kiosk notices a card within ~0.3 s
        time.sleep(0.2)  # still on the reader: no second "card" event
        reader.set_connected(False)
        _wait_for(lambda: ("error", "no_answer") in events)
        reader.set_connected(True)
        _wait_for(lambda: ("back", None) in events)
    finally:
        poller.stop()
    assert not poller.running
    assert events.count(("card", "欧阳娜娜")) == 1
    assert events.count(("error", "no_answer")) == 1  # one report per outage, not one per poll


def test_a_listener_that_raises_does_not_stop_the_poller() -> None:
    reader = FakeIdCardReader(SAMPLES["zhangsan"])
    calls: list[str] = []

    def broken(card) -> None:
        calls.append(card.name)
        raise RuntimeError("listener bug")

    poller = CardPoller(reader, interval=0.02, on_card=broken).start()
    try:
        _wait_for(lambda: calls == ["张三"])
        reader.remove()
        reader.place(SAMPLES["lisi"])
        _wait_for(lambda: calls == ["张三", "李四"])
    finally:
        poller.stop()


def _wait_for(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_poller_over_the_pty_sees_each_swipe_of_the_emulator() -> None:
    names: list[str] = []
    cards = [SAMPLES["zhangsan"], SAMPLES["hk"], SAMPLES["foreign2017"]]
    with IdCardEmulator(cards=cards, swipe_gap=0.05) as emu:
        reader = open_reader(emu.url)
        poller = CardPoller(reader, interval=0.05, on_card=lambda c: names.append(c.name)).start()
        try:
            _wait_for(lambda: len(names) >= 3)
        finally:
            poller.stop()
            reader.close()
    assert names[:3] == ["张三", "陈美玲", "约翰"]
