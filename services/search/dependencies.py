"""The search service's backend: Elasticsearch, wrapped as :class:`SearchIndex`."""

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from elasticsearch import (
    ApiError,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from casewire.errors import Unavailable
from services.search.mappings import INDICES, SETTINGS

ELASTICSEARCH_URL_KEY = "ELASTICSEARCH_URL"
ELASTICSEARCH_CA_CERTS_KEY = "ELASTICSEARCH_CA_CERTS"  # a CA file (PEM) for https clusters with a private CA
INDEX_PREFIX_KEY = "INDEX_PREFIX"
log = logging.getLogger(__name__)
BUILD_CHECK_SECONDS = 1.0


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(f"the search index is unavailable: {exc}")


class SearchIndex:
    """Index writes and queries; every index is reached through its alias.

    While ``casewire search reindex`` builds a new index, the alias ``<alias>-next`` points at it and
    every write goes to both, so nothing announced during the rebuild is missing after the swap.
    """

    def __init__(self, client: Elasticsearch, prefix: str):
        self.client = client
        self.prefix = prefix
        self._building: dict[str, tuple[float, bool]] = {}

    def alias(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def next_alias(self, name: str) -> str:
        return f"{self.alias(name)}-next"

    # --- lifecycle -------------------------------------------------------------------------------

    def ensure_indices(self) -> None:
        """Create each versioned index and point its alias at it, if not done already.

        Safe when several replicas start at once: an index another replica created first is taken as
        it is, and the alias is added only while no index holds it yet (re-checked after a lost race).
        """
        for name, spec in INDICES.items():
            alias = self.alias(name)
            if self.client.indices.exists_alias(name=alias):
                live = self.live_version(name)
                if live < spec["version"]:
                    log.warning("%s is at mapping v%s, not v%s: reindex", alias, live, spec["version"])
                continue
            index = f"{alias}-v{spec['version']}"
            if not self.client.indices.exists(index=index):
                self._create_if_absent(name, index)
            self._alias_if_unclaimed(name, index)

    def _create_if_absent(self, name: str, index: str) -> None:
        try:
            self.create_index(name, index)
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
            log.info("%s was created by another replica", index)

    def _alias_if_unclaimed(self, name: str, index: str) -> None:
        """Point the alias of ``name`` at ``index`` unless another index took it meanwhile (a reindex)."""
        alias = self.alias(name)
        if self.client.indices.exists_alias(name=alias):
            return
        self.client.indices.put_alias(index=index, name=alias)
        holders = self.live_indices(name)
        if holders != [index]:
            log.warning("%s points at %s; %s is left without it", alias, holders, index)

    def create_index(self, name: str, index: str) -> None:
        spec = INDICES[name]
        mappings = {**spec["mappings"], "_meta": {"version": spec["version"]}}
        settings = {**SETTINGS, **spec.get("settings", {})}
        self.client.indices.create(index=index, settings=settings, mappings=mappings)

    def live_indices(self, name: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias(name)))
        except NotFoundError:
            return []

    def live_version(self, name: str) -> int:
        indices = self.live_indices(name)
        if not indices:
            return 0
        mapping = self.client.indices.get_mapping(index=indices[0])[indices[0]]["mappings"]
        return int((mapping.get("_meta") or {}).get("version", 1))

    def start_build(self, name: str) -> str:
        """A fresh index with the current mapping, also receiving live writes (``<alias>-next``)."""
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        index = f"{self.alias(name)}-v{INDICES[name]['version']}-{stamp}"
        self.create_index(name, index)
        self.client.indices.put_alias(index=index, name=self.next_alias(name))
        return index

    def finish_build(self, name: str, index: str) -> list[str]:
        """Swap the alias to ``index`` in one atomic step; delete the indices it replaced."""
        self.client.indices.refresh(index=index)
        old = [existing for existing in self.live_indices(name) if existing != index]
        actions = [{"remove": {"index": existing, "alias": self.alias(name)}} for existing in old]
        actions += [
            {"add": {"index": index, "alias": self.alias(name)}},
            {"remove": {"index": index, "alias": self.next_alias(name)}},
        ]
        self.client.indices.update_aliases(actions=actions)
        for existing in old:
            self.client.indices.delete(index=existing)
        return old

    def abandon_build(self, index: str) -> None:
        self.client.indices.delete(index=index, ignore_unavailable=True)

    # --- writes ----------------------------------------------------------------------------------

    def _targets(self, name: str) -> list[str]:
        """The alias of ``name``, and its build's while a reindex runs (asked at most every
        :data:`BUILD_CHECK_SECONDS`: ``casewire search reindex`` waits longer than that before it copies)."""
        now = time.monotonic()
        known = self._building.get(name)
        if known is None or now - known[0] > BUILD_CHECK_SECONDS:
            known = (now, bool(self.client.indices.exists_alias(name=self.next_alias(name))))
            self._building[name] = known
        return [self.alias(name), *([self.next_alias(name)] if known[1] else [])]

    def put_many(self, name: str, documents: list[tuple[str, dict, int | None]], create: bool = False) -> set[str]:
        """:meth:`put` for many ``(id, document, version)`` in one bulk request; the ids written (an
        older version, or with ``create`` an id already held, is left as it is)."""
        if not documents:
            return set()
        actions = [
            {
                "_op_type": "create" if create else "index",
                "_index": target,
                "_id": doc_id,
                "_source": document,
                **({"version": version, "version_type": "external"} if version is not None else {}),
            }
            for target in self._targets(name)
            for doc_id, document, version in documents
        ]
        try:
            _, errors = helpers.bulk(self.client, actions, raise_on_error=False, stats_only=False)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        failures = [next(iter(e.values())) for e in errors]
        if any(failure.get("status") != 409 for failure in failures):
            bad = [failure for failure in failures if failure.get("status") != 409]
            raise Unavailable(f"{len(bad)} documents could not be indexed: {bad[:3]}")
        return {doc_id for doc_id, _, _ in documents} - {failure["_id"] for failure in failures}

    def put(self, name: str, doc_id: str, document: dict, version: int | None = None, create: bool = False) -> bool:
        """Write a document under its own id, so a replayed event overwrites instead of duplicating.

        With ``version`` (an external version), an older or equal version is ignored: a replay never
        regresses a newer document. With ``create``, a document the id holds already is kept. Returns
        False when it was ignored.
        """
        written = True
        try:
            for target in self._targets(name):
                options = {"version": version, "version_type": "external"} if version is not None else {}
                options |= {"op_type": "create"} if create else {}
                try:
                    self.client.index(index=target, id=doc_id, document=document, require_alias=True, **options)
                except ConflictError:
                    written = False
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return written

    def bulk_put(self, index: str, documents: Iterable[tuple[str, dict, int | None]]) -> int:
        """Load ``(id, document, version)`` into one concrete index; version conflicts are skipped."""
        actions = (
            {
                "_index": index,
                "_id": doc_id,
                "_source": document,
                **({"version": version, "version_type": "external"} if version is not None else {}),
            }
            for doc_id, document, version in documents
        )
        ok, errors = helpers.bulk(self.client, actions, raise_on_error=False, stats_only=False)
        failures = [e for e in errors if next(iter(e.values())).get("status") != 409]
        if failures:
            raise Unavailable(f"{len(failures)} documents could not be indexed: {failures[:3]}")
        return ok

    def delete_from(self, index: str, doc_ids: Iterable[str]) -> int:
        """Delete documents by id from one concrete index (a build in progress)."""
        actions = ({"_op_type": "delete", "_index": index, "_id": doc_id} for doc_id in doc_ids)
        ok, _ = helpers.bulk(self.client, actions, raise_on_error=False, stats_only=True)
        return ok

    def delete(self, name: str, doc_ids: Iterable[str]) -> int:
        """Delete documents by id from the index (and a build in progress); missing ids are fine."""
        doc_ids = list(doc_ids)
        if not doc_ids:
            return 0
        try:
            targets = self._targets(name)
            actions = [{"_op_type": "delete", "_index": t, "_id": i} for t in targets for i in doc_ids]
            ok, _ = helpers.bulk(self.client, actions, raise_on_error=False, stats_only=True)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return ok

    # --- reads -----------------------------------------------------------------------------------

    def search(self, names: str | list[str], **body) -> dict:
        names = [names] if isinstance(names, str) else names
        try:
            return self.client.search(index=",".join(self.alias(n) for n in names), **body)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def msearch(self, name: str, searches: list[dict]) -> list[dict]:
        """Several searches of one index in one request (``[header, body, header, body, ...]``); their answers."""
        try:
            answers = self.client.msearch(index=self.alias(name), searches=searches)["responses"]
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        failed = [answer["error"] for answer in answers if "error" in answer]
        if failed:
            raise Unavailable(f"the search index is unavailable: {failed[0]}")
        return answers

    def scan(self, name: str, query: dict | None = None, index: str | None = None) -> Iterator[tuple[str, int, dict]]:
        """Every matching document as ``(id, version, source)``, in no particular order.

        ``index`` names a concrete index (a build in progress) instead of the alias of ``name``.
        """
        hits = helpers.scan(
            self.client,
            index=index or self.alias(name),
            query={"query": query or {"match_all": {}}, "version": True},
            size=1000,
        )
        for hit in hits:
            yield hit["_id"], hit.get("_version", 1), hit.get("_source") or {}

    def count(self, name: str) -> int:
        try:
            return int(self.client.count(index=self.alias(name))["count"])
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def sources(self, name: str, doc_ids: list[str]) -> dict[str, dict]:
        """The documents these ids hold now (real time, no refresh needed); missing ids are left out."""
        if not doc_ids:
            return {}
        try:
            found = self.client.mget(index=self.alias(name), ids=doc_ids)["docs"]
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return {doc["_id"]: doc.get("_source") or {} for doc in found if doc.get("found")}

    def versions(self, name: str, doc_ids: list[str]) -> dict[str, int]:
        """The versions these ids are held at now (real time); missing ids are left out."""
        if not doc_ids:
            return {}
        try:
            found = self.client.mget(index=self.alias(name), ids=doc_ids, source=False)["docs"]
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return {doc["_id"]: doc["_version"] for doc in found if doc.get("found")}

    def exists(self, name: str, doc_id: str) -> bool:
        try:
            return bool(self.client.exists(index=self.alias(name), id=doc_id))
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def refresh(self, *names: str) -> None:
        """Make recent writes searchable now (before a scan that must see them)."""
        try:
            self.client.indices.refresh(index=",".join(self.alias(name) for name in names or INDICES))
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def ping(self) -> bool:
        return self.client.ping()


def connect(url: str, ca_certs: str | None = None) -> Elasticsearch:
    """A client for ``url``; ``ca_certs`` (a PEM file) verifies an https cluster signed by a private CA."""
    return Elasticsearch(url, request_timeout=30, **({"ca_certs": ca_certs} if ca_certs else {}))


def client_from(config: dict) -> Elasticsearch:
    """The client a config file describes (``ELASTICSEARCH_URL``, ``ELASTICSEARCH_CA_CERTS``)."""
    return connect(config[ELASTICSEARCH_URL_KEY], config.get(ELASTICSEARCH_CA_CERTS_KEY) or None)


class SearchIndexProvider(DependencyProvider):
    """One Elasticsearch client per container; indices and aliases ensured at start."""

    def setup(self) -> None:
        config = self.container.config
        self.client = client_from(config)
        self.index = SearchIndex(self.client, config.get(INDEX_PREFIX_KEY, "casewire"))
        self.index.ensure_indices()

    def stop(self) -> None:
        self.client.close()

    def kill(self) -> None:
        self.client.close()

    def get_dependency(self, worker_ctx: WorkerContext) -> SearchIndex:
        return self.index
