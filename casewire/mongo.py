"""The MongoDB dependency: one client per service container, one small domain store per service.

Services never touch pymongo in entrypoints: each passes a store class, which receives its own
database and creates its indexes once at container start.
"""

from collections.abc import Callable

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from pymongo import MongoClient
from pymongo.database import Database

from casewire import docstore

MONGODB_URI_KEY = "MONGODB_URI"
MONGODB_DATABASE_KEY = "MONGODB_DATABASE"


def connect(uri: str, **kwargs) -> MongoClient:
    """A client with the timeouts Casewire expects: fail fast when the server is gone."""
    return MongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=kwargs.pop("server_selection_timeout_ms", 5000),
        connectTimeoutMS=5000,
        **kwargs,
    )


class MongoStore(DependencyProvider):
    """Builds ``store_class(database)`` at setup; the store owns its collections and indexes."""

    def __init__(self, store_class: Callable[[Database], object], **kwargs):
        self.store_class = store_class
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        self.client = connect(config[MONGODB_URI_KEY])
        database = self.client.get_database(config[MONGODB_DATABASE_KEY])
        docstore.flavor_of(database, config.get(docstore.DOCUMENT_STORE_KEY))  # the flavor its stores use
        self.store = self.store_class(database)
        self.store.ensure_indexes()

    def stop(self) -> None:
        self.client.close()

    def kill(self) -> None:
        self.client.close()

    def get_dependency(self, worker_ctx: WorkerContext) -> object:
        return self.store
