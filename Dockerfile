# syntax=docker/dockerfile:1
# Switchboard's image: `docker build -t switchboard .` (docker-compose.yml builds it too).
# Stage 1 installs every dependency and bundles the sources (npm run build); stage 2 keeps
# only the bundle and the production dependencies, runs as the unprivileged `node` user,
# and needs no network when a container starts.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY core ./core
COPY gateways ./gateways
COPY connectors ./connectors
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/gateways/bin/healthcheck.mjs ./gateways/bin/healthcheck.mjs
# The JetStream store (streams, KV, MQTT sessions and retained messages) lives on the volume.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# NATS, monitoring, MQTT, HTTP gateway, WebSocket (NATS at /, MQTT at /mqtt).
EXPOSE 4222 8222 1883 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "gateways/bin/healthcheck.mjs"]
# node is PID 1 and handles SIGTERM itself (gateways/process-signals.ts): `docker stop` is a clean stop.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/switchboard.mjs"]
CMD ["--addr", "0.0.0.0", "--store_dir", "/data/jetstream"]
