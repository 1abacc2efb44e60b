"""Pre-computed tallies per hour and per day, kept up to date by deltas.

A service's outcome figures are sums over its records. Summing 100,000 records at every read is too
slow, so each service keeps, per agency, one *hour bucket* per hour and one *day bucket* per day with
the sums of the records received (or opened) in it, and a reading adds up a few hundred small
documents (docs/outcomes.md):

- whoever stores, changes or deletes records also inserts a *delta*: what the change adds to and
  takes from the tally of the records' hour (:meth:`Tallies.added`, :meth:`Tallies.changed`,
  :meth:`Tallies.removed`), keyed by the change, so a retried change is counted once. A change's
  before and after are what one atomic write saw and left (:func:`casewire.docstore.apply_update`),
  so concurrent changes of one record add up exactly;
- :meth:`Tallies.sweep` (each service's timer) folds the waiting deltas into their hour buckets and
  recomputes the days of those hours. The deltas collection holds only what is waiting, so a fold
  reads a few documents whatever the size of the store; figures lag the records by up to a fold;
- one folder at a time holds a lease with a fencing epoch: every bucket keeps the epoch that wrote it
  and a write from an older epoch is refused;
- :meth:`Tallies.rebuild` recomputes every bucket in one pass over the records (upgrades, benchmarks).

A tally is a nested dict of counts, e.g. ``{"counts": {"alpr|new": 2}}``, built by the service's
contribution function (one record's tally) and added up by :func:`merge`. A tally may also hold
lists of whole numbers (``{"durations": {"assignment": {"alpr": [60000, 120000]}}}``: the values
themselves, so that percentiles over any period stay exact), which add up by concatenation and are
stored as one string each (:func:`pack`): a string decodes and splits far faster than a list of
numbers, and a year of day buckets holds a few hundred values each.
"""

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from nameko.timer import Timer
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from casewire import docstore
from casewire.clock import utcnow

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
META = ("_id", "agency", "hour", "day", "month", "epoch", "folded")
"""A bucket's own fields; the rest is its tally."""
CHUNK = 1000
DEFAULT_TALLY_SECONDS = 5
MONTHS_BY_QUERY = 24
"""Up to this many months, a read asks for each month's day buckets; beyond, for all of the agency's."""


# -- hours and periods ---------------------------------------------------------------------------


def hour_of(at: datetime) -> str:
    """``"2026-03-02T08"``: the UTC hour ``at`` falls in, as stored on records and buckets."""
    return at.astimezone(UTC).isoformat(timespec="hours")[:13]  # strftime writes the year 342 as "342"


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(at: datetime) -> datetime:
    floor = floor_hour(at)
    return floor if floor == at else floor + HOUR


def whole_hours(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The period the tallies answer for: ``since`` rounded down and ``until`` up to whole UTC hours."""
    return floor_hour(since), ceil_hour(until)


def _day_start(at: datetime) -> datetime:
    return at.replace(hour=0)


def _months(start: datetime, end: datetime) -> list[str]:
    """``"YYYY-MM"`` of every month with a day in ``[start, end)`` (whole days)."""
    months, day = [], start
    while day < end:
        months.append(day.date().isoformat()[:7])
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return months


# -- records and tallies -------------------------------------------------------------------------


def merge(into: dict, part: dict) -> dict:
    """Add ``part`` into ``into`` (nested dicts of counts and lists of values); returns ``into``."""
    for key, value in part.items():
        if isinstance(value, dict):
            merge(into.setdefault(key, {}), value)
        elif isinstance(value, list):
            into.setdefault(key, []).extend(value)
        else:
            into[key] = into.get(key, 0) + value
    return into


def pack(value: object) -> object:
    """A tally as stored: each list of whole numbers as one string, sorted (``[120, 60]`` → ``"60 120"``)."""
    if isinstance(value, list):
        return " ".join(map(str, sorted(value)))
    return {key: pack(inner) for key, inner in value.items()} if isinstance(value, dict) else value


def unpack(value: object) -> object:
    """A stored tally as counted: each string back to its sorted list of numbers."""
    if isinstance(value, str):
        return list(map(int, value.split()))
    return {key: unpack(inner) for key, inner in value.items()} if isinstance(value, dict) else value


def tally_of(bucket: dict) -> dict:
    """A stored bucket's tally (its lists unpacked)."""
    return {key: unpack(value) for key, value in bucket.items() if key not in META}


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the lease -----------------------------------------------------------------------------------


class Lease:
    """One sweeper at a time: the ``lease`` document of the tallies' collection, taken when it has
    expired, with an epoch raised at every taking (the fencing token every bucket write carries).

    Times are the wall clock's, not a service's injected clock: a lease is about processes being alive.
    """

    def __init__(self, state: docstore.Collection, seconds: float = 60.0):
        self.state, self.seconds = state, seconds
        self.owner, self.epoch, self.renewed = uuid.uuid4().hex, None, 0.0

    def _until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def acquire(self, wait: float = 0.0) -> int | None:
        """The new epoch, or None if another sweeper held the lease for all of ``wait`` seconds.

        Each sweep is an owner of its own, so two sweeps of one process exclude each other too.
        """
        deadline = time.monotonic() + wait
        while True:
            epoch = self._take(utcnow())
            if epoch is not None:
                self.epoch, self.renewed = epoch, time.monotonic()
                return epoch
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def _take(self, now: datetime) -> int | None:
        """Take the lease if it has expired (or was never taken): its epoch, else None."""
        mine = {"owner": self.owner, "expires": self._until(now)}
        held = self.state.update_atomic({"_id": "lease", "expires": {"$lt": now}}, {"$set": mine, "$inc": {"epoch": 1}})
        if held is not None:
            return held["epoch"]
        try:
            self.state.insert_one({"_id": "lease", **mine, "epoch": 1})
        except DuplicateKeyError:  # it exists and someone else holds it
            return None
        return 1

    def renew(self, force: bool = False) -> bool:
        """Whether this sweeper still holds the lease at its epoch (extended; checked with the
        database at least every third of the lease, and always with ``force``)."""
        if not force and time.monotonic() - self.renewed < self.seconds / 3:
            return True
        now = utcnow()
        kept = self.state.update_atomic(
            {"_id": "lease", "owner": self.owner, "epoch": self.epoch, "expires": {"$gt": now}},
            {"$set": {"expires": self._until(now)}},
        )
        self.renewed = time.monotonic()
        return kept is not None

    def release(self) -> None:
        self.state.update_atomic(
            {"_id": "lease", "owner": self.owner, "epoch": self.epoch}, {"$set": {"expires": utcnow() - HOUR}}
        )


class Superseded(Exception):
    """A sweeper with a newer epoch wrote a bucket, or the lease was lost: stop, clear nothing."""


# -- a service's tallies -------------------------------------------------------------------------


def difference(before: dict, after: dict) -> tuple[dict, dict]:
    """``(added, removed)``: what turns the tally ``before`` into ``after`` (counts and list values)."""
    added, removed = {}, {}
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) or isinstance(new, dict):
            plus, minus = difference(old or {}, new or {})
            if plus:
                added[key] = plus
            if minus:
                removed[key] = minus
        elif isinstance(old, list) or isinstance(new, list):
            left, right = Counter(old or []), Counter(new or [])
            if right - left:
                added[key] = sorted((right - left).elements())
            if left - right:
                removed[key] = sorted((left - right).elements())
        elif (new or 0) != (old or 0):
            added[key] = (new or 0) - (old or 0)
    return added, removed


def subtract(into: dict, part: dict) -> dict:
    """Take ``part`` (counts and list values) out of ``into``; returns ``into``."""
    for key, value in part.items():
        if isinstance(value, dict):
            subtract(into.setdefault(key, {}), value)
        elif isinstance(value, list):
            left = Counter(into.get(key, [])) - Counter(value)
            into[key] = sorted(left.elements())
        else:
            into[key] = into.get(key, 0) - value
    return into


def _pruned(tally: dict) -> dict:
    """``tally`` without zero counts, empty lists and empty maps (what a fold leaves behind)."""
    kept = {}
    for key, value in tally.items():
        value = _pruned(value) if isinstance(value, dict) else value
        if value not in (0, [], {}):
            kept[key] = value
    return kept


class Tallies:
    """The hour and day buckets of one service's records, kept by deltas.

    ``contribute(record) -> tally`` is one record's share and ``hour_of(record)`` the hour it counts in
    (with ``record["agency"]``, where). Buckets live in ``<prefix>_hours`` and ``<prefix>_days``; the
    deltas waiting to be folded in ``<prefix>_deltas``; the fold's lease in ``<prefix>_tallies``.
    """

    def __init__(
        self, database: Database, prefix: str, *, contribute: Callable, hour_of: Callable, flavor: str | None = None
    ):
        self.contribute, self.hour_of = contribute, hour_of
        names = (f"{prefix}_{name}" for name in ("hours", "days", "deltas", "tallies"))
        self.hours, self.days, self.deltas, self.state = docstore.open_collections(database, *names, flavor=flavor)

    def ensure_indexes(self) -> None:
        self.hours.create_index([("agency", ASCENDING), ("day", ASCENDING)], name="agency_day")
        self.days.create_index([("agency", ASCENDING), ("month", ASCENDING)], name="agency_month")

    # -- changes ---------------------------------------------------------------------------------

    def added(self, change_id: "str | Callable[[dict], str]", records: Iterable[dict]) -> None:
        """Count ``records`` in (stored by the change named ``change_id``, or by ``change_id(record)``)."""
        self.record(change_id, [(record, self.contribute(record), {}) for record in records])

    def removed(self, change_id: "str | Callable[[dict], str]", records: Iterable[dict]) -> None:
        """Count ``records`` out (deleted by the change ``change_id``)."""
        self.record(change_id, [(record, {}, self.contribute(record)) for record in records])

    def changed(self, change_id: str, before: dict, after: dict) -> None:
        """Count one record's change: ``before`` and ``after`` are what an atomic write saw and left."""
        self.record(change_id, [(after, *difference(self.contribute(before), self.contribute(after)))])

    def record(self, change_id: "str | Callable[[dict], str]", parts: Iterable[tuple[dict, dict, dict]]) -> None:
        """Store the deltas of ``parts`` (``(record, added, removed)``), one document per change, agency
        and hour, keyed by the change: repeating a change stores nothing twice."""
        deltas: dict[str, dict] = {}
        for record, plus, minus in parts:
            if not plus and not minus:
                continue
            agency, hour = record.get("agency"), self.hour_of(record)
            change = change_id(record) if callable(change_id) else change_id
            delta_id = f"{change}|{agency or ''}|{hour}"
            delta = deltas.setdefault(delta_id, {"_id": delta_id, "agency": agency, "hour": hour, "add": {}, "sub": {}})
            merge(delta["add"], plus)
            merge(delta["sub"], minus)
        if deltas:
            self.deltas.insert_new([{**d, "add": pack(d["add"]), "sub": pack(d["sub"])} for d in deltas.values()])

    # -- folding ---------------------------------------------------------------------------------

    def sweep(self, wait: float = 0.0, lease_seconds: float = 60.0) -> dict:
        """Fold the waiting deltas into their hour buckets and recompute those hours' days.

        A bucket names the deltas of its last fold (``folded``), which are deleted only after it is
        written: a fold cut short in between leaves them, and the next fold deletes them unread. One
        folder at a time holds the lease; a bucket written at a newer epoch is never overwritten.
        ``{"swept": bool, "deltas", "hours", "days"}``.
        """
        lease = Lease(self.state, lease_seconds)
        epoch = lease.acquire(wait)
        if epoch is None:
            return {"swept": False, "deltas": 0, "hours": 0, "days": 0}
        try:
            waiting = list(self.deltas.find({}))
            by_hour: dict[tuple, list[dict]] = {}
            for delta in waiting:
                by_hour.setdefault((delta.get("agency"), delta["hour"]), []).append(delta)
            done = []
            for (agency, hour), deltas in sorted(by_hour.items(), key=lambda item: (item[0][0] or "", item[0][1])):
                done += self._fold_hour(agency, hour, deltas, epoch, lease)
            days = {(agency, hour[:10]) for agency, hour in by_hour}
            for agency, day in sorted(days, key=lambda key: (key[0] or "", key[1])):
                self._write_day(agency, day, epoch, lease)
            if not lease.renew(force=True):
                raise Superseded
            self._delete([delta["_id"] for delta in waiting])
        except Superseded:
            return {"swept": False, "deltas": 0, "hours": 0, "days": 0}
        finally:
            lease.release()
        return {"swept": True, "deltas": len(done), "hours": len(by_hour), "days": len(days)}

    def _fold_hour(self, agency: str | None, hour: str, deltas: list[dict], epoch: int, lease: "Lease") -> list[str]:
        bucket_id = f"{agency or ''}|{hour}"
        stored = self.hours.find_one({"_id": bucket_id}) or {}
        folded = set(stored.get("folded") or [])
        fresh = [delta for delta in deltas if delta["_id"] not in folded]
        if not fresh:
            return []
        tally = tally_of(stored)
        for delta in fresh:
            merge(tally, unpack(delta["add"]))
            subtract(tally, unpack(delta["sub"]))
        bucket = self._bucket(agency, hour, epoch, tally)
        self._write(self.hours, {**bucket, "folded": [delta["_id"] for delta in fresh]}, lease)
        return [delta["_id"] for delta in fresh]

    def _write_day(self, agency: str | None, day: str, epoch: int, lease: "Lease") -> None:
        tally = {}
        for bucket in self.hours.find({"agency": agency, "day": day}):
            merge(tally, tally_of(bucket))
        self._write(self.days, self._bucket(agency, day, epoch, tally), lease)

    @staticmethod
    def _bucket(agency: str | None, key: str, epoch: int, tally: dict) -> dict:
        """An hour bucket (``key`` an hour: with its ``day``) or a day bucket (a day: with its ``month``)."""
        where = {"hour": key, "day": key[:10]} if "T" in key else {"day": key, "month": key[:7]}
        return {"_id": f"{agency or ''}|{key}", "agency": agency, **where, "epoch": epoch, **pack(_pruned(tally))}

    @staticmethod
    def _write(collection: docstore.Collection, bucket: dict, lease: "Lease | None" = None) -> None:
        """Replace the bucket unless a newer epoch wrote it."""
        if lease is not None and not lease.renew():
            raise Superseded
        with collection.held(bucket["_id"]):
            stored = collection.find_one({"_id": bucket["_id"]}, {"epoch": 1})
            if stored is not None and stored.get("epoch", 0) > bucket["epoch"]:
                raise Superseded
            collection.replace_one({"_id": bucket["_id"]}, bucket, upsert=True)

    def _delete(self, ids: list[str]) -> None:
        for chunk in _chunks(ids, CHUNK):
            self.deltas.delete_many({"_id": {"$in": chunk}})

    # -- rebuilding ------------------------------------------------------------------------------

    def rebuild(self, records: Iterable[dict], wait: float = 60.0, lease_seconds: float = 600.0) -> dict:
        """Recompute every bucket from ``records`` (all of them, each with its agency) in one pass, and
        drop the deltas waiting then (upgrades, benchmarks). Readers see incomplete figures while it
        replaces the buckets: run it before users come back. ``{"records", "hours", "days"}``; raises
        RuntimeError when the lease stays taken."""
        lease = Lease(self.state, lease_seconds)
        epoch = lease.acquire(wait)
        if epoch is None:
            raise RuntimeError("another sweep or rebuild holds the tallies' lease; try again")
        try:
            waiting = [delta["_id"] for delta in self.deltas.find({}, {"_id": 1})]
            hours, count = {}, 0
            for record in records:
                merge(hours.setdefault((record.get("agency"), self.hour_of(record)), {}), self.contribute(record))
                count += 1
                if not lease.renew():
                    raise RuntimeError("the tallies' lease was lost during the rebuild; run it again")
            days = {}
            for (agency, hour), tally in hours.items():
                merge(days.setdefault((agency, hour[:10]), {}), tally)
            self._replace_all(self.hours, [self._bucket(agency, key, epoch, t) for (agency, key), t in hours.items()])
            self._replace_all(self.days, [self._bucket(agency, key, epoch, t) for (agency, key), t in days.items()])
            if not lease.renew(force=True):
                raise RuntimeError("the tallies' lease was lost during the rebuild; run it again")
            self._delete(waiting)
        finally:
            lease.release()
        return {"records": count, "hours": len(hours), "days": len(days)}

    def _replace_all(self, collection: docstore.Collection, buckets: list[dict]) -> None:
        collection.delete_many({})
        for chunk in _chunks(buckets, CHUNK):
            collection.insert_new(chunk)

    # -- reading ---------------------------------------------------------------------------------

    def read(self, agency: str | None, since: datetime, until: datetime) -> list[dict]:
        """The tallies of ``agency`` for ``[since, until)`` (whole hours, :func:`whole_hours`): a day
        bucket for each whole day, hour buckets for the hours of a day cut at either end."""
        first = since if since.hour == 0 else _day_start(since) + DAY
        last, found = _day_start(until), []
        if first < last:
            found += self._days_between(agency, first, last)
            parts = [(since, first), (last, until)]
        else:
            parts = [(since, until)]
        for start, end in parts:
            if start < end:
                found += self._hours_between(agency, start, end)
        return found

    def _days_between(self, agency: str | None, start: datetime, end: datetime) -> list[dict]:
        """One query a month; over more than ``MONTHS_BY_QUERY`` months (a period "since the year
        342" is valid input), one query for all of the agency's days instead of one per month."""
        low, high = start.date().isoformat(), end.date().isoformat()
        months = _months(start, end)
        if len(months) > MONTHS_BY_QUERY:
            queries = [{"agency": agency}]
        else:
            queries = [{"agency": agency, "month": month} for month in months]
        return [
            tally_of(bucket) for query in queries for bucket in self.days.find(query) if low <= bucket["day"] < high
        ]

    def _hours_between(self, agency: str | None, start: datetime, end: datetime) -> list[dict]:
        """Hours within at most two days (a cut day, or two days either side of a midnight)."""
        low, high = hour_of(start), hour_of(end)
        found = []
        for day in sorted({low[:10], hour_of(end - HOUR)[:10]}):
            for bucket in self.hours.find({"agency": agency, "day": day}):
                if low <= bucket["hour"] < high:
                    found.append(tally_of(bucket))
        return found


class TallyTimer(Timer):
    """The sweep's timer: every ``TALLY_SECONDS`` (5 by default), read when the service starts."""

    def __init__(self, **kwargs):
        super().__init__(interval=DEFAULT_TALLY_SECONDS, **kwargs)

    def setup(self) -> None:
        configured = self.container.config.get("TALLY_SECONDS")
        self.interval = float(DEFAULT_TALLY_SECONDS if configured in (None, "") else configured)
        if self.interval <= 0:
            raise ValueError(f"TALLY_SECONDS ({self.interval:g}) must be above 0")


tally_timer = TallyTimer.decorator
