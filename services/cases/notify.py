"""Webhook subscriptions and their delivery (an outbox with retries)."""

from nameko.timer import timer

from casewire.contracts.case_inputs import WebhookIn
from casewire.contracts.cases import plain
from casewire.errors import Forbidden, InvalidInput, NotFound
from casewire.rpc import rpc
from services.cases import webhooks
from services.cases.dependencies import new_id
from services.cases.worker import ERRORS, CaseWorker, load

WEBHOOK_ATTEMPTS_KEY = "WEBHOOK_MAX_ATTEMPTS"


class WebhookEntrypoints(CaseWorker):
    """Subscribe URLs to case events; deliver them."""

    @rpc(expected_exceptions=ERRORS)
    def create_webhook(self, body: dict, context: dict) -> dict:
        """Subscribe a URL to case events: ``{"url": "https://chat.example/hook", "events": ["case_assigned"]}``.

        The answer holds the subscription's signing secret (the subscriber's own, or one made now): the
        only time it is shown.

        Supervisors subscribe their own unit (C12: admins run the system but read no cases). The URL's
        host must be in ``WEBHOOK_ALLOWED_HOSTS`` (webhooks.url_refusal; InvalidInput naming ``url``).
        Audited as ``webhook.subscribe`` before it is stored (C23).
        """
        data = load(WebhookIn, body, "the webhook is invalid")
        actor = context.get("actor") or {}
        if "supervisor" not in (actor.get("roles") or []):
            raise Forbidden("only a supervisor subscribes webhooks, for their own unit")
        if data.get("unit") not in (None, context.get("unit")):
            raise Forbidden("a supervisor subscribes to their own unit's cases only")
        refusal = webhooks.url_refusal(data["url"], self._allowed_hosts())
        if refusal:
            raise InvalidInput("this webhook URL is not allowed", {"url": [refusal]})
        webhook = {
            "_id": new_id(),
            **data,
            "secret": data.get("secret") or webhooks.new_secret(),
            "unit": context.get("unit"),
            "agency": actor.get("agency"),
            "created_by": actor.get("id"),
            "created_at": self._now(),
        }
        details = {"url": data["url"], "events": data["events"], "unit": webhook["unit"]}
        self._audit("webhook.subscribe", "allowed", context, [webhook["_id"]], record_type="webhook", details=details)
        self.hooks.add(webhook)
        return plain(webhook)  # the secret, this once: it signs every delivery (webhooks.py)

    @rpc(expected_exceptions=ERRORS)
    def delete_webhook(self, webhook_id: str, context: dict) -> None:
        """Unsubscribe: the subscription goes and its pending deliveries are cancelled (audited first, C23).

        NotFound for another agency's webhook; Forbidden unless the caller supervises its unit.
        """
        actor = context.get("actor") or {}
        hook = self.hooks.get(webhook_id)
        if hook is None or hook.get("agency") != actor.get("agency"):
            raise NotFound(f"no webhook {webhook_id}")
        if "supervisor" not in (actor.get("roles") or []) or hook.get("unit") != context.get("unit"):
            self._audit("webhook.unsubscribe", "denied", context, [webhook_id], record_type="webhook")
            raise Forbidden("a supervisor unsubscribes their own unit's webhooks only")
        details = {"url": hook["url"], "unit": hook.get("unit")}
        self._audit("webhook.unsubscribe", "allowed", context, [webhook_id], record_type="webhook", details=details)
        self.hooks.remove(webhook_id, self._now())

    def _allowed_hosts(self) -> frozenset[str]:
        return webhooks.allowed_hosts(self.config.get(webhooks.ALLOWED_HOSTS_KEY))

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
        allowed = self._allowed_hosts()
        for due in self.hooks.due(now):
            delivery = self.hooks.claim(due["_id"], now, webhooks.next_try(now, 6))
            if delivery is None:
                continue
            hook = self.hooks.get(delivery["webhook_id"])
            error = webhooks.attempt(hook, delivery, allowed) if hook else "the subscription no longer exists"
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
