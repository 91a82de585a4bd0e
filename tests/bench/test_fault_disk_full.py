"""The fault run's disk-full phase, small: the server's database on a tmpfs the bench mounts,
filled while kiosks issue (503 storage_unavailable; the kiosks print from their leases), then
freed; every printed ticket ends on the server under its printed number, none twice, and the
database passes `PRAGMA integrity_check` and `hall audit verify`. Without root the phase says
why it was skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import fault_run

pytestmark = pytest.mark.e2e


def test_disk_full_phase_loses_no_printed_ticket(tmp_path: Path) -> None:
    run, kiosks = fault_run.prepare(tmp_path, 2)
    try:
        fault_run.sync_all(kiosks, 1)
        fault_run.issue_round(kiosks, "online", 2, 0)
        disk = fault_run.disk_full(run, kiosks, 3, 600)
        if "skipped" in disk:
            pytest.skip(f"disk-full phase skipped: {disk['skipped']}")
        fault_run.issue_round(kiosks, "after", 1, 700)
        fault_run.sync_all(kiosks)
    finally:
        run.stop()
        figures = fault_run.check(run, kiosks)
        fault_run.unmount(run)

    assert disk["storage_503"] >= 1, disk  # the disk really filled
    assert disk["health_while_full"] == "503 failing", disk
    assert disk["printed_offline"] >= 1, disk
    assert disk["synced_after"] == disk["printed_offline"], disk
    assert disk["health_after"] == "200 ok", disk
    assert figures["by_phase"]["disk full"] == disk["printed"] == 2 * disk["rounds"]
    assert figures["known_under_printed_number"] == figures["printed"]
    assert figures["missing"] == [] and figures["wrong_number"] == []
    assert figures["held_twice"] == []
    assert figures["outbox_pending"] == 0 and figures["outbox_rejected"] == 0
    assert figures["integrity_check"] == "ok"
    assert figures["audit_verify"].startswith("audit log intact"), figures["audit_verify"]
    assert fault_run.failures(figures) == []


def test_without_root_the_phase_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fault_run.os, "geteuid", lambda: 1000)
    mnt, why = fault_run.mount_small_fs(tmp_path / "fs", 8)
    assert mnt is None and "root" in why


def test_a_failing_mount_is_skipped_with_its_message(tmp_path: Path) -> None:
    mnt, why = fault_run.mount_small_fs(tmp_path / "fs", -1)
    assert mnt is None and why.startswith("cannot mount"), why


def test_a_skipped_or_unfilled_phase_is_reported_not_hidden() -> None:
    ok = {
        "missing": [],
        "wrong_number": [],
        "held_twice": [],
        "outbox_pending": 0,
        "outbox_rejected": 0,
        "integrity_check": "ok",
        "audit_verify": "audit log intact: 3 records",
    }
    assert fault_run.failures(dict(ok, disk_full={"skipped": "not root"})) == []
    unfilled = dict(ok, disk_full={"storage_503": 0, "synced_after": 0, "printed_offline": 0})
    assert fault_run.failures(unfilled) == ["the disk never filled (no 503 storage_unavailable)"]
    assert fault_run.failures(dict(ok, integrity_check="*** page 3 missing")) == [
        "integrity_check: *** page 3 missing"
    ]
