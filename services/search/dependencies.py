"""The search service's backend: Elasticsearch, wrapped as :class:`SearchIndex`."""

from elasticsearch import ApiError, Elasticsearch, TransportError
from nameko.extensions import DependencyProvider

from casewire.errors import Unavailable
from services.search.mappings import INDICES, SETTINGS

ELASTICSEARCH_URL_KEY = "ELASTICSEARCH_URL"
INDEX_PREFIX_KEY = "INDEX_PREFIX"


class SearchIndex:
    """Index writes and queries; every index is reached through its alias."""

    def __init__(self, client: Elasticsearch, prefix: str):
        self.client = client
        self.prefix = prefix

    def alias(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def ensure_indices(self) -> None:
        """Create each versioned index and point its alias at it, if not done already."""
        for name, spec in INDICES.items():
            alias = self.alias(name)
            if self.client.indices.exists_alias(name=alias):
                continue
            index = f"{alias}-v{spec['version']}"
            if not self.client.indices.exists(index=index):
                self.client.indices.create(index=index, settings=SETTINGS, mappings=spec["mappings"])
            self.client.indices.put_alias(index=index, name=alias)

    def put(self, name: str, doc_id: str, document: dict) -> None:
        """Write a document under its own id, so a replayed event overwrites instead of duplicating."""
        try:
            self.client.index(index=self.alias(name), id=doc_id, document=document, require_alias=True)
        except (ApiError, TransportError) as exc:
            raise Unavailable(f"the search index is unavailable: {exc}") from exc

    def search(self, name: str, **body) -> dict:
        try:
            return self.client.search(index=self.alias(name), **body)
        except (ApiError, TransportError) as exc:
            raise Unavailable(f"the search index is unavailable: {exc}") from exc

    def refresh(self) -> None:
        self.client.indices.refresh(index=",".join(self.alias(name) for name in INDICES))

    def ping(self) -> bool:
        return self.client.ping()


class SearchIndexProvider(DependencyProvider):
    """One Elasticsearch client per container; indices and aliases ensured at start."""

    def setup(self):
        config = self.container.config
        self.client = Elasticsearch(config[ELASTICSEARCH_URL_KEY], request_timeout=10)
        self.index = SearchIndex(self.client, config.get(INDEX_PREFIX_KEY, "casewire"))
        self.index.ensure_indices()

    def stop(self):
        self.client.close()

    def kill(self):
        self.client.close()

    def get_dependency(self, worker_ctx):
        return self.index
