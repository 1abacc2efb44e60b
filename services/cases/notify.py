"""Webhook subscriptions and their delivery (an outbox with retries)."""

from nameko.timer import timer

from casewire.errors import Forbidden
from casewire.rpc import rpc
from services.cases import webhooks
from services.cases.base import ERRORS, CaseWorker, load
from services.cases.schemas import WebhookIn, plain

WEBHOOK_ATTEMPTS_KEY = "WEBHOOK_MAX_ATTEMPTS"


class WebhookEntrypoints(CaseWorker):
    """Subscribe URLs to case events; deliver them."""

    @rpc(expected_exceptions=ERRORS)
    def create_webhook(self, body: dict, context: dict) -> dict:
        """Subscribe a URL to case events: ``{"url": "https://chat.example/hook", "events": ["case_assigned"]}``.

        Supervisors subscribe their own unit; admins any unit of their agency (or all of it).
        """
        data = load(WebhookIn, body, "the webhook is invalid")
        actor = context.get("actor") or {}
        if "admin" not in (actor.get("roles") or []):
            if data.get("unit") not in (None, context.get("unit")):
                raise Forbidden("a supervisor subscribes to their own unit's cases only")
            data["unit"] = context.get("unit")
        webhook = self.hooks.add(
            {**data, "agency": actor.get("agency"), "created_by": actor.get("id"), "created_at": self._now()}
        )
        return plain({key: value for key, value in webhook.items() if key != "secret"})

    @rpc(expected_exceptions=ERRORS)
    def list_webhooks(self, context: dict) -> dict:
        query = {"agency": ((context or {}).get("actor") or {}).get("agency")}
        hooks = [{key: value for key, value in hook.items() if key != "secret"} for hook in self.hooks.all(query)]
        return {"items": plain(hooks), "next_cursor": None}

    @rpc(expected_exceptions=ERRORS)
    def webhook_deliveries(self, webhook_id: str) -> list:
        return plain(self.hooks.deliveries_of(webhook_id))

    @timer(interval=1)
    def deliver_webhooks(self) -> None:
        """Try every due delivery once; failures back off exponentially until WEBHOOK_MAX_ATTEMPTS."""
        now, max_attempts = self._now(), int(self.config.get(WEBHOOK_ATTEMPTS_KEY, 8))
        for due in self.hooks.due(now):
            delivery = self.hooks.claim(due["_id"], now, webhooks.next_try(now, 6))
            if delivery is None:
                continue
            hook = self.hooks.get(delivery["webhook_id"])
            error = webhooks.attempt(hook, delivery) if hook else "the subscription no longer exists"
            attempts = delivery.get("attempts", 0) + 1
            if error is None:
                self.hooks.finish(
                    delivery["_id"], {"state": "delivered", "attempts": attempts, "delivered_at": self._now()}
                )
            else:
                state = "failed" if attempts >= max_attempts else "pending"
                self.hooks.finish(
                    delivery["_id"],
                    {
                        "state": state,
                        "attempts": attempts,
                        "last_error": error,
                        "next_at": webhooks.next_try(self._now(), attempts),
                    },
                )
