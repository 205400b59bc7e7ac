# Outbox in a container: built and run as an unprivileged user, data in the
# /data volume. The repo's package.json is the kit's npm package (`outbox`),
# so the server's own dependencies are devDependencies there: the runtime
# stage installs them all.
#
#   docker build -t outbox .
#   docker run -p 3000:3000 -v outbox-data:/data outbox
#
# `compose.yaml` runs two of these on PostgreSQL behind Caddy (TLS).

# --- dependencies (better-sqlite3 compiles here) ---
FROM node:20-bookworm-slim AS runtime-deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- the build: the app and its server entry ---
FROM runtime-deps AS build
COPY . .
RUN npm run build && cp -rL build /app/dist && rm -rf /app/dist/.leases

# --- what runs ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 DATA_DIR=/data
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./build
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# Liveness; readiness (the store answers) is GET /readyz, for a balancer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# SIGTERM drains (up to DRAIN_TIMEOUT_S, 10 s): give `docker stop` a little more (--stop-timeout / stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["node", "build/main.js"]
