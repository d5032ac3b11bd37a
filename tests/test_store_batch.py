"""store/batch.settle: what one batch of ingested files writes, decided without a store."""

from __future__ import annotations

from feeds.errors import RecordError
from feeds.store import FileState, StoredRecord
from feeds.store.batch import Holder, Outcome, Rejection, settle

STATE = FileState(1, 2, "d")


def _record(record_id: str, url: str) -> StoredRecord:
    return StoredRecord(record_id, url, True, 1_700_000_000, "example.com", "Example", ("One",),
                        None, None, " one ", "{}")


def test_files_the_store_has_never_seen_delete_nothing() -> None:
    plan = settle([Outcome("a.txt", STATE, _record("1", "u1")),
                   Outcome("b.txt", STATE, RecordError("b.txt", "title", "required"))], [])
    assert plan.removed == () and plan.owned == ()
    assert [s.path for s in plan.stored] == ["a.txt"]
    assert plan.rejected == (Rejection("b.txt", STATE, "title: required", False),)


def test_a_stored_file_written_again_is_removed_first_with_the_record_it_owns() -> None:
    plan = settle([Outcome("a.txt", STATE, _record("2", "u2"))],
                  [Holder("a.txt", FileState(9, 9, "old"), "1", "u1")])
    assert plan.removed == ("a.txt",) and plan.owned == ("1",)
    assert [s.record.id for s in plan.stored] == ["2"] and plan.errors == ()


def test_within_a_batch_the_name_sorting_first_keeps_the_url() -> None:
    plan = settle([Outcome("a.txt", STATE, _record("1", "same")),
                   Outcome("b.txt", STATE, _record("2", "same"))], [])
    assert [s.path for s in plan.stored] == ["a.txt"]
    assert [(e.path, e.field, e.retry) for e in plan.errors] == [("b.txt", "webUrl", True)]
    assert plan.errors[0].reason.startswith("duplicate of a.txt,")


def test_a_stored_rival_sorting_later_is_demoted_with_its_own_state() -> None:
    old = FileState(5, 6, "z")
    plan = settle([Outcome("a.txt", STATE, _record("1", "u"))], [Holder("z.txt", old, "1", "v")])
    assert plan.removed == ("z.txt",) and plan.owned == ("1",)
    assert plan.rejected == (Rejection("z.txt", old, "id: duplicate of a.txt, which has the same "
                                       "id and wins because its name sorts first", True),)
    assert plan.errors == ()


def test_a_file_rejected_in_the_batch_frees_its_id_for_a_later_one() -> None:
    plan = settle([Outcome("a.txt", STATE, RecordError("a.txt", "file", "broken")),
                   Outcome("b.txt", STATE, _record("1", "u"))],
                  [Holder("a.txt", STATE, "1", "u")])
    assert [s.path for s in plan.stored] == ["b.txt"]
    assert plan.removed == ("a.txt",) and plan.owned == ("1",)


def test_a_stored_file_keeping_its_id_and_url_frees_nothing() -> None:
    plan = settle([Outcome("a.txt", STATE, _record("1", "u")),
                   Outcome("n.txt", STATE, _record("2", "v"))],  # new: it only takes
                  [Holder("a.txt", FileState(9, 9, "old"), "1", "u"),
                   Holder("r.txt", FileState(9, 9, "old"), None, None)])
    assert not plan.freed
    # A file stored as a rejection and rejected again held nothing to give up.
    plan = settle([Outcome("r.txt", STATE, RecordError("r.txt", "title", "required"))],
                  [Holder("r.txt", FileState(9, 9, "old"), None, None)])
    assert not plan.freed


def test_a_stored_file_giving_up_its_id_or_url_frees_them() -> None:
    was = [Holder("a.txt", FileState(9, 9, "old"), "1", "u")]
    for now in (_record("1", "other url"), _record("other id", "u"),
                RecordError("a.txt", "title", "required")):
        assert settle([Outcome("a.txt", STATE, now)], was).freed, now
    # Beaten by a name sorting first: it gives up every claim, the new file taking only some.
    beaten = settle([Outcome("0.txt", STATE, _record("9", "u"))], was)
    assert beaten.freed and [r.path for r in beaten.rejected] == ["a.txt"]
