"""Group commit (services/intake/grouping.py): concurrent single submissions of one caller are stored
together; each is answered with its own result, once its group is stored, or with its group's error."""

import eventlet
import pytest

from casewire.errors import Unavailable
from services.intake.grouping import Groups


class Store:
    """Stores a group after yielding (as a store's round trip does), recording each group it got."""

    def __init__(self, fail: bool = False):
        self.groups, self.fail = [], fail

    def __call__(self, items: list) -> list:
        eventlet.sleep(0.01)
        self.groups.append(list(items))
        if self.fail:
            raise Unavailable("the store is down")
        return [f"stored {item}" for item in items]


def submit_all(groups: Groups, store: Store, items: list, key=lambda item: "caller") -> list:
    pool = eventlet.GreenPool()
    threads = [pool.spawn(groups.submit, key(item), item, store) for item in items]
    return [thread.wait() for thread in threads]


def test_a_lone_submission_is_stored_at_once_as_a_group_of_one():
    store = Store()
    assert Groups().submit("caller", "read-1", store) == "stored read-1"
    assert store.groups == [["read-1"]]


def test_concurrent_submissions_are_stored_in_fewer_groups_and_each_gets_its_own_result():
    store, items = Store(), [f"read-{n}" for n in range(50)]
    assert submit_all(Groups(), store, items) == [f"stored {item}" for item in items]
    assert sorted(item for group in store.groups for item in group) == sorted(items)  # each stored once
    assert len(store.groups) < 5  # the first alone, then whatever queued while a group was stored


def test_each_caller_has_groups_of_its_own():
    store, items = Store(), [f"read-{n}" for n in range(20)]
    submit_all(Groups(), store, items, key=lambda item: int(item.split("-")[1]) % 2)
    assert all(len({int(item.split("-")[1]) % 2 for item in group}) == 1 for group in store.groups)


def test_a_failed_group_answers_every_member_with_its_error_and_the_next_group_is_stored():
    groups, store = Groups(), Store(fail=True)
    pool = eventlet.GreenPool()
    threads = [pool.spawn(groups.submit, "caller", f"read-{n}", store) for n in range(10)]
    for thread in threads:
        with pytest.raises(Unavailable):
            thread.wait()
    store.fail = False
    assert groups.submit("caller", "read-10", store) == "stored read-10"  # the lead was handed on
