"""Pre-computed tallies per hour and per day, recomputed from the records when they change.

A service's outcome figures are sums over its records. Summing 100,000 records at every read is what
FerretDB cannot do fast (it checks a range such as ``received_at`` only after decoding every document
of the agency), so each service keeps, per agency, one *hour bucket* per hour and one *day bucket*
per day with the sums of the records received (or opened) in it, and a reading adds up a few hundred
small documents (README, Outcomes). The buckets are recomputed from the records, never incremented,
so a crash or a lost update cannot leave them wrong for longer than the next sweep:

- a record marks itself pending (:func:`pending`: ``tally_pending`` and a fresh ``tally_token``) in
  the same single-document update that changes it; deleting a record marks its hour dirty first
  (:meth:`Tallies.removing`);
- :meth:`Tallies.sweep` (each service's timer) recomputes each dirty hour from that hour's records
  (an equality filter on the record's hour field), each affected day from its hours, and then clears
  the flags it read, only where the token is still the one it read: a record changed meanwhile stays
  pending and is recomputed by the next sweep;
- one sweeper at a time holds a lease with a fencing epoch: every bucket keeps the epoch that wrote it
  and a write from an older epoch is refused, and a sweeper that lost its lease clears nothing;
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

PENDING, TOKEN = "tally_pending", "tally_token"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
META = ("_id", "agency", "hour", "day", "month", "epoch")
"""A bucket's own fields; the rest is its tally."""
DUPLICATE_KEY = 11000
CHUNK = 1000
UPDATES_PER_WRITE = 50  # FerretDB holds a connection per statement of an update command (README)
DEFAULT_TALLY_SECONDS = 5


# -- hours and periods ---------------------------------------------------------------------------


def hour_of(at: datetime) -> str:
    """``"2026-03-02T08"``: the UTC hour ``at`` falls in, as stored on records and buckets."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


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
        months.append(day.strftime("%Y-%m"))
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return months


# -- records and tallies -------------------------------------------------------------------------


def pending() -> dict:
    """The fields a change sets, in its own update: the record's hour must be recomputed."""
    return {PENDING: True, TOKEN: uuid.uuid4().hex}


def tallied(update: dict) -> dict:
    """``update`` (update operators) that also marks the record pending."""
    return {**update, "$set": {**update.get("$set", {}), **pending()}}


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
        self.batch = 20000  # pending records one sweep takes at most; the next sweep goes on

    def ensure_indexes(self) -> None:
        """For MongoDB; FerretDB answers these equality filters without them."""
        self.records.create_index([(PENDING, ASCENDING)], name=PENDING)
        by_hour = [("agency", ASCENDING), (self.hour_field, ASCENDING)]
        self.records.create_index(by_hour, name=f"agency_{self.hour_field}")
        self.hours.create_index([("agency", ASCENDING), ("day", ASCENDING)], name="agency_day")
        self.days.create_index([("agency", ASCENDING), ("month", ASCENDING)], name="agency_month")
        self.state.create_index([("dirty", ASCENDING)], name="dirty")

    def hour_of(self, record: dict) -> str:
        return record.get(self.hour_field) or hour_of(record[self.time_field])

    # -- changes ---------------------------------------------------------------------------------

    def mark_dirty(self, agency: str | None, hour: str) -> None:
        """Recompute ``hour`` of ``agency`` at the next sweep (one marker per hour; a new token each time)."""
        marker = {"dirty": True, "agency": agency, "hour": hour, "token": uuid.uuid4().hex}
        self.state.update_one({"_id": f"dirty|{agency or ''}|{hour}"}, {"$set": marker}, upsert=True)

    def removing(self, record: dict, remove: Callable[[], None]) -> None:
        """Delete a record through ``remove`` and take it out of its hour and day: the hour is marked
        dirty before the deletion (a crash between them costs a needless sweep, never a count) and again
        after it (a sweep that took the first mark before the record was gone leaves the second)."""
        self.mark_dirty(record.get("agency"), self.hour_of(record))
        remove()
        self.mark_dirty(record.get("agency"), self.hour_of(record))

    # -- sweeping --------------------------------------------------------------------------------

    def sweep(self, wait: float = 0.0, lease_seconds: float = 60.0) -> dict:
        """Recompute every dirty hour and its day, then clear what was read (see the module's doc).

        ``{"swept": bool, "records", "hours", "days"}``; not swept when another sweeper held the lease
        for ``wait`` seconds, or a newer one superseded this one (it then clears nothing).
        """
        lease = Lease(self.state, lease_seconds)
        epoch = lease.acquire(wait)
        if epoch is None:
            return {"swept": False, "records": 0, "hours": 0, "days": 0}
        try:
            fields = {**self.projection, self.hour_field: 1, self.time_field: 1, TOKEN: 1}
            found = list(self.records.find({PENDING: True}, fields).limit(self.batch))
            markers = list(self.state.find({"dirty": True}))
            hours = {(marker.get("agency"), marker["hour"]) for marker in markers}
            for record in found:
                hours.add((record.get("agency"), self._hour_stored(record)))
            days = {(agency, hour[:10]) for agency, hour in hours}
            for agency, hour in sorted(hours, key=lambda key: (key[0] or "", key[1])):
                self._write_hour(agency, hour, epoch, lease)
            for agency, day in sorted(days, key=lambda key: (key[0] or "", key[1])):
                self._write_day(agency, day, epoch, lease)
            if not lease.renew(force=True):
                raise Superseded
            self._clear(found, markers)
        except Superseded:
            return {"swept": False, "records": 0, "hours": 0, "days": 0}
        finally:
            lease.release()
        return {"swept": True, "records": len(found), "hours": len(hours), "days": len(days)}

    def _hour_stored(self, record: dict) -> str:
        """The record's hour; stored on a record from before hours were (its own hour then counts it)."""
        if record.get(self.hour_field):
            return record[self.hour_field]
        hour = hour_of(record[self.time_field])
        self.records.update_one({"_id": record["_id"]}, {"$set": {self.hour_field: hour}})
        return hour

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

    def _clear(self, found: list[dict], markers: list[dict]) -> None:
        """Unmark the records and markers read, where their token is still the one read (a record with
        no token, seeded pending, matches ``None``)."""
        tokens = sorted({record.get(TOKEN) for record in found}, key=lambda token: token or "")
        for chunk in _chunks(tokens, CHUNK):
            self.records.update_many({PENDING: True, TOKEN: {"$in": chunk}}, {"$unset": {PENDING: "", TOKEN: ""}})
        for chunk in _chunks([marker["token"] for marker in markers], CHUNK):
            self.state.delete_many({"dirty": True, "token": {"$in": chunk}})

    # -- rebuilding ------------------------------------------------------------------------------

    def rebuild(self, wait: float = 60.0, lease_seconds: float = 600.0) -> dict:
        """Recompute every bucket in one pass over the records and store each record's hour where it is
        missing (upgrades, benchmarks). Readers see incomplete figures while it replaces the buckets.

        ``{"records", "hours", "days", "hours_set"}``; raises RuntimeError when the lease stays taken.
        """
        lease = Lease(self.state, lease_seconds)
        epoch = lease.acquire(wait)
        if epoch is None:
            raise RuntimeError("another sweep or rebuild holds the tallies' lease; try again")
        try:
            found = list(self.records.find({PENDING: True}, {TOKEN: 1}))
            markers = list(self.state.find({"dirty": True}))
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
            self._clear(found, markers)
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
        low, high = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
        found = []
        for month in _months(start, end):
            for bucket in self.days.find({"agency": agency, "month": month}):
                if low <= bucket["day"] < high:
                    found.append(tally_of(bucket))
        return found

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
