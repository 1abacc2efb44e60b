#!/usr/bin/env bash
# The three servers Casewire needs, on loopback: RabbitMQ, FerretDB (MongoDB protocol), Elasticsearch.
# Usage: scripts/servers.sh up|down|status|install
set -euo pipefail
cd "$(dirname "$0")"
SERVERS=(rabbitmq ferretdb elasticsearch)

case "${1:?usage: $0 up|down|status|install}" in
  install) for s in "${SERVERS[@]}"; do "./$s.sh" install; done ;;
  up) for s in "${SERVERS[@]}"; do "./$s.sh" start; done ;;
  down) for s in elasticsearch ferretdb rabbitmq; do "./$s.sh" stop; done ;;
  status)
    rc=0
    for s in "${SERVERS[@]}"; do
      if "./$s.sh" status; then echo "$s: up"; else echo "$s: down"; rc=1; fi
    done
    exit $rc ;;
  *) echo "usage: $0 up|down|status|install" >&2; exit 2 ;;
esac
