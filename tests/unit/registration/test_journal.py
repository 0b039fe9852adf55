"""The registration journal: steps per payload and account, read back after a crash."""

from __future__ import annotations

from pathlib import Path

from uploader.registration.journal import Journal, Recorded, content_key


def test_an_absent_journal_has_recorded_nothing(tmp_path: Path) -> None:
    """Before the first write there is no file and nothing is recorded."""
    journal = Journal(tmp_path / "deep" / "journal.jsonl")
    assert journal.recorded("k", "acme") == Recorded()
    journal.write("k", "acme", "posting")
    assert journal.path.exists()


def test_steps_are_read_back_per_key_and_account(tmp_path: Path) -> None:
    """File ids and the application of one key and account; other keys and accounts apart."""
    journal = Journal(tmp_path / "journal.jsonl")
    journal.write("k", "acme", "uploaded", odf="sha-1", file_id="file-1")
    journal.write("k", "acme", "posting")
    journal.write("other", "acme", "registered", application="app-x")
    journal.write("k", "bolt", "registered", application="app-y")
    assert journal.recorded("k", "acme") == Recorded({"sha-1": "file-1"}, posting=True)
    journal.write("k", "acme", "registered", application="app-1")
    assert journal.recorded("k", "acme") == Recorded({"sha-1": "file-1"}, False, "app-1")
    journal.write("k", "acme", "posting")  # --force: a new registration is under way
    assert journal.recorded("k", "acme").application is None


def test_a_line_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    """A torn last line did not happen; the lines before it still count."""
    journal = Journal(tmp_path / "journal.jsonl")
    journal.write("k", "acme", "posting")
    with journal.path.open("ab") as handle:
        handle.write(b'{"key": "k", "account": "acme", "step": "regis')
    assert journal.recorded("k", "acme") == Recorded(posting=True)


def test_the_content_key_covers_the_payload_and_each_odf() -> None:
    """Key order does not matter; another value or another ODF's bytes make another key."""
    payload = {"GroupedEnglishName": "A", "Devices": [{"Address": "x"}]}
    reordered = {"Devices": [{"Address": "x"}], "GroupedEnglishName": "A"}
    key = content_key(payload, {0: "sha-1"})
    assert content_key(reordered, {0: "sha-1"}) == key
    assert content_key(payload, {0: "sha-2"}) != key
    assert content_key({**payload, "GroupedEnglishName": "B"}, {0: "sha-1"}) != key
