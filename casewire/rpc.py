"""``@rpc`` for services: nameko's own, except that a reply lost to a broker outage kills nothing.

nameko 2.14 sends an RPC reply after the worker returned, outside the worker's error handling: when
RabbitMQ is gone at that moment, the exception ends the container and the whole service process
exits (seen by ``tests/faults/test_restart_servers.py``). Here the failed reply is logged and the
request is left to the broker: it is unacknowledged, so RabbitMQ delivers it again once the service
has reconnected (the gateway has answered its caller 503 meanwhile). This is what a crash would
have done, without the crash. Every service uses this decorator for all its RPC entrypoints (they
share one consumer per service, so nameko's and this one must not be mixed in a service).
"""

import logging

from kombu.message import Message
from nameko.rpc import Rpc, RpcConsumer

log = logging.getLogger(__name__)


class ResilientRpcConsumer(RpcConsumer):
    def handle_result(self, message: Message, result: object, exc_info: tuple | None) -> tuple:
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as exc:  # the broker connection is gone; nameko would let this kill the service
            log.warning("an RPC reply could not be sent (%s); the broker will deliver the request again", exc)
            try:
                self.queue_consumer.requeue_message(message)
            except Exception:  # the channel is closed: the broker requeues unacknowledged messages itself
                pass
            return result, exc_info


class ResilientRpc(Rpc):
    rpc_consumer = ResilientRpcConsumer()


rpc = ResilientRpc.decorator
