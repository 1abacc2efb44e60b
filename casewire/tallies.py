"""Pre-computed tallies per hour and per day, recomputed from the records when they change.

A service's outcome figures are sums over its records. Summing 100,000 records at every read is what
FerretDB cannot do fast (it checks a range such as ``received_at`` only after decoding every document
of the agency), so each service keeps, per agency, one *hour bucket* per hour and one *day bucket*
per day with the sums of the records received (or opened) in it, and a reading adds up a few hundred
small documents (README, Outcomes). The buckets are recomputed from the records, never incremented,
so a crash cannot leave them wrong for longer than the next sweep:

- before a record is stored, changed or deleted, its hour is marked (:meth:`Tallies.touch`: a small
  marker document of the tallies' own, one per agency, hour and second, inserted and never updated);
- :meth:`Tallies.sweep` (each service's timer) recomputes each marked hour from that hour's records
  (an equality filter on the record's hour field) and each affected day from its hours, and deletes
  only the markers older than ``grace`` (30 s): a marker is read by every sweep of its first 30 s, so
  a change that lands after the sweep that first read its marker is still counted by a later one;
- the sweep never writes a record: FerretDB applies an update as a read and a later write of the
  whole document, so a background write to a record could undo a user's change made in between
  (README, "FerretDB and MongoDB");
- one sweeper at a time holds a lease with a fencing epoch: every bucket keeps the epoch that wrote it
  and a write from an older epoch is refused, and a sweeper that lost its lease deletes nothing;
- :meth:`Tallies.rebuild` recomputes every bucket in one pass over the records (upgrades, benchmarks).

A tally is a nested dict of counts, e.g. ``{"counts": {"alpr|new": 2}}``, built by the service's
contribution function (one record's tally) and added up by :func:`merge`. A tally may also hold
lists of whole numbers (``{"durations": {"assignment": {"alpr": [60000, 120000]}}}``: the values
themselves, so that percentiles over any period stay exact), which add up by concatenation and are
stored as one string each (:func:`pack`): FerretDB decodes a document field by field (a year of day
buckets with a few hundred entries each read in 2.3 s as fields, 0.6 s as strings), and a string
splits and sorts at C speed in Python. Every write is a
single-document write or an unordered insert, and every filter an equality (FerretDB has no
multi-document transactions and pushes only equality down to PostgreSQL).
"""

import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from nameko.timer import Timer
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from casewire.clock import utcnow

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
META = ("_id", "agency", "hour", "day", "month", "epoch")
"""A bucket's own fields; the rest is its tally."""
DUPLICATE_KEY = 11000
CHUNK = 1000
UPDATES_PER_WRITE = 50  # FerretDB holds a connection per statement of an update command (README)
DEFAULT_TALLY_SECONDS = 5
GRACE = timedelta(seconds=30)
"""How long sweeps keep reading a marker: far longer than a record's write takes to land after it."""
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


def pack(value):
    """A tally as stored: each list of whole numbers as one string, sorted (``[120, 60]`` → ``"60 120"``)."""
    if isinstance(value, list):
        return " ".join(map(str, sorted(value)))
    return {key: pack(inner) for key, inner in value.items()} if isinstance(value, dict) else value


def unpack(value):
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

    def __init__(self, state, seconds: float = 60.0):
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
        held = self.state.find_one_and_update(
            {"_id": "lease", "expires": {"$lt": now}},
            {"$set": mine, "$inc": {"epoch": 1}},
            return_document=ReturnDocument.AFTER,
        )
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
        kept = self.state.update_one(
            {"_id": "lease", "owner": self.owner, "epoch": self.epoch, "expires": {"$gt": now}},
            {"$set": {"expires": self._until(now)}},
        )
        self.renewed = time.monotonic()
        return kept.matched_count == 1

    def release(self) -> None:
        self.state.update_one(
            {"_id": "lease", "owner": self.owner, "epoch": self.epoch}, {"$set": {"expires": utcnow() - HOUR}}
        )


class Superseded(Exception):
    """A sweeper with a newer epoch wrote a bucket, or the lease was lost: stop, clear nothing."""


# -- a service's tallies -------------------------------------------------------------------------


class Tallies:
    """The hour and day buckets of one service's records.

    ``records`` is the collection tallied; its database holds the buckets in ``<prefix>_hours`` and
    ``<prefix>_days``, and the lease and dirty-hour markers in ``<prefix>_tallies``. ``time_field`` is
    the records' timestamp, ``hour_field`` its stored hour, ``fields`` what the service's
    ``contribute(record) -> tally`` reads.
    """

    def __init__(
        self,
        records,
        prefix: str,
        *,
        time_field: str,
        hour_field: str,
        fields: tuple,
        contribute: Callable,
    ):
        self.records, self.time_field, self.hour_field = records, time_field, hour_field
        self.projection = dict.fromkeys(("agency", *fields), 1)
        self.contribute = contribute
        database = records.database
        self.hours, self.days, self.state = (database[f"{prefix}_{name}"] for name in ("hours", "days", "tallies"))
        self.grace = GRACE

    def ensure_indexes(self) -> None:
        """For MongoDB; FerretDB answers these equality filters without them."""
        by_hour = [("agency", ASCENDING), (self.hour_field, ASCENDING)]
        self.records.create_index(by_hour, name=f"agency_{self.hour_field}")
        self.hours.create_index([("agency", ASCENDING), ("day", ASCENDING)], name="agency_day")
        self.days.create_index([("agency", ASCENDING), ("month", ASCENDING)], name="agency_month")
        self.state.create_index([("dirty", ASCENDING)], name="dirty")

    def hour_of(self, record: dict) -> str:
        return record.get(self.hour_field) or hour_of(record[self.time_field])

    # -- changes ---------------------------------------------------------------------------------

    def touch(self, records: Iterable[dict]) -> None:
        """Mark the hours of ``records`` (each with its agency and its hour or time) for the next sweeps,
        before they are stored, changed or deleted: one marker per agency, hour and second, inserted
        (a marker already there for this second is as good as a new one)."""
        now = utcnow()
        second = now.strftime("%Y-%m-%dT%H:%M:%S")
        markers = {}
        for record in records:
            agency, hour = record.get("agency"), self.hour_of(record)
            marker_id = f"dirty|{agency or ''}|{hour}|{second}"
            markers[marker_id] = {"_id": marker_id, "dirty": True, "agency": agency, "hour": hour, "at": now}
        if not markers:
            return
        try:
            self.state.insert_many(list(markers.values()), ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise

    def touch_id(self, record_id: str) -> None:
        """:meth:`touch` the record stored as ``record_id`` (nothing when there is none)."""
        fields = {"agency": 1, self.hour_field: 1, self.time_field: 1}
        record = self.records.find_one({"_id": record_id}, fields)
        if record is not None:
            self.touch([record])

    def removing(self, record: dict, remove: Callable[[], None]) -> None:
        """Delete a record through ``remove`` and take it out of its hour and day (marked first)."""
        self.touch([record])
        remove()

    # -- sweeping --------------------------------------------------------------------------------

    def sweep(self, wait: float = 0.0, lease_seconds: float = 60.0) -> dict:
        """Recompute every marked hour and its day, then delete the markers read that are older than
        ``grace`` (see the module's doc).

        ``{"swept": bool, "marks", "hours", "days"}``; not swept when another sweeper held the lease
        for ``wait`` seconds, or a newer one superseded this one (it then deletes nothing).
        """
        lease = Lease(self.state, lease_seconds)
        epoch = lease.acquire(wait)
        if epoch is None:
            return {"swept": False, "marks": 0, "hours": 0, "days": 0}
        try:
            started = utcnow()
            markers = list(self.state.find({"dirty": True}, {"agency": 1, "hour": 1, "at": 1}))
            hours = {(marker.get("agency"), marker["hour"]) for marker in markers}
            days = {(agency, hour[:10]) for agency, hour in hours}
            for agency, hour in sorted(hours, key=lambda key: (key[0] or "", key[1])):
                self._write_hour(agency, hour, epoch, lease)
            for agency, day in sorted(days, key=lambda key: (key[0] or "", key[1])):
                self._write_day(agency, day, epoch, lease)
            if not lease.renew(force=True):
                raise Superseded
            self._clear([marker for marker in markers if marker["at"] <= started - self.grace])
        except Superseded:
            return {"swept": False, "marks": 0, "hours": 0, "days": 0}
        finally:
            lease.release()
        return {"swept": True, "marks": len(markers), "hours": len(hours), "days": len(days)}

    def _write_hour(self, agency: str | None, hour: str, epoch: int, lease: Lease) -> None:
        tally = {}
        for record in self.records.find({"agency": agency, self.hour_field: hour}, self.projection):
            merge(tally, self.contribute(record))
        self._write(self.hours, self._bucket(agency, hour, epoch, tally), lease)

    def _write_day(self, agency: str | None, day: str, epoch: int, lease: Lease) -> None:
        tally = {}
        for bucket in self.hours.find({"agency": agency, "day": day}):
            merge(tally, tally_of(bucket))
        self._write(self.days, self._bucket(agency, day, epoch, tally), lease)

    @staticmethod
    def _bucket(agency: str | None, key: str, epoch: int, tally: dict) -> dict:
        """An hour bucket (``key`` an hour: with its ``day``) or a day bucket (a day: with its ``month``)."""
        where = {"hour": key, "day": key[:10]} if "T" in key else {"day": key, "month": key[:7]}
        return {"_id": f"{agency or ''}|{key}", "agency": agency, **where, "epoch": epoch, **pack(tally)}

    @staticmethod
    def _write(collection, bucket: dict, lease: Lease | None = None) -> None:
        """Replace the bucket unless a newer epoch wrote it (the upsert then collides on ``_id``)."""
        if lease is not None and not lease.renew():
            raise Superseded
        try:
            collection.replace_one({"_id": bucket["_id"], "epoch": {"$lte": bucket["epoch"]}}, bucket, upsert=True)
        except DuplicateKeyError as exc:
            raise Superseded from exc

    def _clear(self, markers: list[dict]) -> None:
        for chunk in _chunks([marker["_id"] for marker in markers], CHUNK):
            self.state.delete_many({"_id": {"$in": chunk}})

    # -- rebuilding ------------------------------------------------------------------------------

    def rebuild(self, wait: float = 60.0, lease_seconds: float = 600.0) -> dict:
        """Recompute every bucket in one pass over the records and store each record's hour where it is
        missing (upgrades, benchmarks). Readers see incomplete figures while it replaces the buckets,
        and on FerretDB storing a missing hour could undo an edit of that record made at the same
        instant: run it after an upgrade, before users come back.

        ``{"records", "hours", "days", "hours_set"}``; raises RuntimeError when the lease stays taken.
        """
        lease = Lease(self.state, lease_seconds)
        epoch = lease.acquire(wait)
        if epoch is None:
            raise RuntimeError("another sweep or rebuild holds the tallies' lease; try again")
        try:
            started = utcnow()
            markers = list(self.state.find({"dirty": True}, {"at": 1}))
            hours, missing, records = {}, [], 0
            fields = {**self.projection, self.time_field: 1, self.hour_field: 1}
            for record in self.records.find({}, fields):
                hour = record.get(self.hour_field)
                if not hour:
                    hour = hour_of(record[self.time_field])
                    missing.append((record["_id"], hour))
                merge(hours.setdefault((record.get("agency"), hour), {}), self.contribute(record))
                records += 1
                if not lease.renew():
                    raise RuntimeError("the tallies' lease was lost during the rebuild; run it again")
            self._set_hours(missing)
            days = {}
            for (agency, hour), tally in hours.items():
                merge(days.setdefault((agency, hour[:10]), {}), tally)
            self._replace_all(self.hours, [self._bucket(agency, key, epoch, t) for (agency, key), t in hours.items()])
            self._replace_all(self.days, [self._bucket(agency, key, epoch, t) for (agency, key), t in days.items()])
            if not lease.renew(force=True):
                raise RuntimeError("the tallies' lease was lost during the rebuild; run it again")
            self._clear([marker for marker in markers if marker["at"] <= started - self.grace])
        finally:
            lease.release()
        return {"records": records, "hours": len(hours), "days": len(days), "hours_set": len(missing)}

    def _set_hours(self, missing: list[tuple[str, str]]) -> None:
        for chunk in _chunks(missing, UPDATES_PER_WRITE):
            for record_id, hour in chunk:
                self.records.update_one({"_id": record_id}, {"$set": {self.hour_field: hour}})

    def _replace_all(self, collection, buckets: list[dict]) -> None:
        """Every bucket of the collection replaced by ``buckets``; one a stale sweeper wrote meanwhile
        is overwritten through the epoch check."""
        collection.delete_many({})
        for chunk in _chunks(buckets, CHUNK):
            try:
                collection.insert_many(chunk, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != DUPLICATE_KEY for error in errors):
                    raise
                for error in errors:
                    self._write(collection, chunk[error["index"]])

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

    def setup(self):
        configured = self.container.config.get("TALLY_SECONDS")
        self.interval = float(DEFAULT_TALLY_SECONDS if configured in (None, "") else configured)
        if self.interval <= 0:
            raise ValueError(f"TALLY_SECONDS ({self.interval:g}) must be above 0")


tally_timer = TallyTimer.decorator
