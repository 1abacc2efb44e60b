"""The cases service's backend: the ``cases`` collection, wrapped as :class:`CaseStore`."""

import uuid

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import PyMongoError

from casewire.errors import NotFound


class CaseStore:
    def __init__(self, database):
        self.cases = database["cases"]

    def ensure_indexes(self) -> None:
        self.cases.create_index([("status", ASCENDING), ("opened_at", DESCENDING)], name="status_time")
        self.cases.create_index([("unit", ASCENDING), ("opened_at", DESCENDING)], name="unit_time")
        self.cases.create_index([("assignees", ASCENDING)], name="assignees")

    def insert(self, case: dict) -> dict:
        case = {"_id": uuid.uuid4().hex, **case}
        self.cases.insert_one(case)
        return case

    def get(self, case_id: str) -> dict:
        case = self.cases.find_one({"_id": case_id})
        if case is None:
            raise NotFound(f"no case {case_id}")
        return case

    def ping(self) -> bool:
        try:
            self.cases.database.command("ping")
        except PyMongoError:
            return False
        return True
