"""docs/BENCHMARKS.md is written section by section by different benchmarks: each rewrite must
replace only its own section and keep every other one, markers included."""

from __future__ import annotations

from pathlib import Path

from bench.report import write_heading_section, write_section

DOC = """# Benchmarks

## Fairness

old fairness

## Wait estimate

old estimate

<!-- bench:howto -->
## Running the benchmarks
how
<!-- /bench:howto -->

<!-- bench:server -->
## Server
old server
<!-- /bench:server -->
"""


def test_a_study_rewrites_its_heading_section_and_keeps_the_marked_ones(tmp_path: Path) -> None:
    doc = tmp_path / "B.md"
    doc.write_text(DOC, encoding="utf-8")
    write_heading_section("## Wait estimate", "## Wait estimate\n\nnew estimate\n", doc)
    text = doc.read_text(encoding="utf-8")
    assert "new estimate" in text and "old estimate" not in text
    assert "old fairness" in text
    assert "<!-- bench:howto -->\n## Running the benchmarks" in text
    assert text.count("<!-- bench:") == 2 and text.count("<!-- /bench:") == 2


def test_a_marked_section_is_replaced_in_place_or_appended(tmp_path: Path) -> None:
    doc = tmp_path / "B.md"
    doc.write_text(DOC, encoding="utf-8")
    write_section("server", "## Server\nnew server", doc)
    write_section("kiosk", "## Kiosk\nkiosk figures", doc)
    text = doc.read_text(encoding="utf-8")
    assert "new server" in text and "old server" not in text
    assert text.index("## Server") < text.index("## Kiosk")
    assert text.endswith("<!-- /bench:kiosk -->\n")
    assert "old fairness" in text and "old estimate" in text and "how" in text


def test_the_figures_file_itself_does_not_make_a_run_uncommitted(monkeypatch) -> None:
    """One `hall bench` run writes several sections: the first written must not mark the
    later ones as measured on uncommitted code."""
    import subprocess
    from types import SimpleNamespace

    from bench import report

    porcelain = {"out": ""}

    def fake_run(cmd, **kwargs):  # type: ignore[no-untyped-def]
        if "rev-parse" in cmd:
            return SimpleNamespace(stdout="abc1234\n")
        return SimpleNamespace(stdout=porcelain["out"])

    monkeypatch.setattr(subprocess, "run", fake_run)
    porcelain["out"] = " M docs/BENCHMARKS.md\n"
    assert report._git_commit() == "abc1234"
    porcelain["out"] = " M docs/BENCHMARKS.md\n M queue_server/core/voice.py\n"
    assert report._git_commit() == "abc1234 (with uncommitted changes)"
