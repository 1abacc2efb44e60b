# syntax=docker/dockerfile:1
# One image for every Casewire process: the command chooses which one runs.
#   gateway (the default):  gunicorn ... "gateway.app:create_app()"
#   a service:              nameko run --config services/<name>/config.yaml services.<name>.service
#   an exec probe:          python -m casewire probe <name>
# Python dependencies come from requirements.lock (every one pinned with its hashes, pip --require-hashes);
# the console's (console/, served by the gateway at /console/) from its package-lock.json (npm ci).
# The base is pinned to an exact Python patch release, Debian release and the digest of its
# multi-architecture index (docs/operations.md, "Base"); agencies that mirror it use their mirror's digest.
# checkov:skip=CKV_DOCKER_2: one image runs six different processes; health is checked by the orchestrator's probes (/healthz and /readyz for the gateway, `python -m casewire probe <service>` for a service), not by one HEALTHCHECK

FROM node:22.14.0-bookworm-slim@sha256:1c18d9ab3af4585870b92e4dbc5cac5a0dc77dd13df1a5905cea89fc720eb05b AS console
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /src/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY clients/typescript/openapi.json /src/clients/typescript/openapi.json
COPY clients/typescript/src /src/clients/typescript/src
COPY console/index.html console/tsconfig.json console/vite.config.ts ./
COPY console/src ./src
RUN npm run build

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements.lock ./
# setuptools and wheel first (hash-checked), so nameko's source distribution builds without
# fetching unchecked build dependencies (--no-build-isolation).
RUN python -m venv /opt/casewire \
    && awk '/^[^ #]/ { keep = ($0 ~ /^(setuptools|wheel)==/) } keep' requirements.lock > build-tools.lock \
    && /opt/casewire/bin/pip install --require-hashes --no-deps -r build-tools.lock \
    && /opt/casewire/bin/pip install --require-hashes --no-deps --no-build-isolation -r requirements.lock \
    && /opt/casewire/bin/pip uninstall --yes wheel pip
COPY casewire /app/casewire
COPY casewire_cli /app/casewire_cli
COPY gateway /app/gateway
COPY services /app/services
COPY --from=console /src/console/dist /app/console
RUN /opt/casewire/bin/python -m compileall -q /app

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
LABEL org.opencontainers.image.title="casewire" \
      org.opencontainers.image.description="Casewire: case management for real time crime centers (gateway and services)" \
      org.opencontainers.image.licenses="Apache-2.0"
# No compilers or package managers in the running image: the base's own pip, setuptools and wheel go
# (Casewire runs from /opt/casewire, whose setuptools, pinned in requirements.lock, gives nameko's CLI
# its pkg_resources; nothing runs the base's). The audit archive's directory
# belongs to the service's user, so a volume mounted there (compose's named volume; in Kubernetes the
# PersistentVolumeClaim, made writable by fsGroup) is writable.
RUN python -m pip uninstall --yes setuptools wheel pip \
    && groupadd --gid 10001 casewire \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin casewire \
    && install --directory --owner 10001 --group 10001 --mode 0750 /var/lib/casewire/audit-archive
COPY --from=build /opt/casewire /opt/casewire
COPY --from=build /app /app
ENV PATH=/opt/casewire/bin:$PATH \
    PYTHONPATH=/app \
    CONSOLE_DIR=/app/console \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
EXPOSE 8080
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "--worker-class", "gthread", "--threads", "16", "--workers", "1", "--timeout", "120", "--worker-tmp-dir", "/tmp", "gateway.app:create_app()"]
