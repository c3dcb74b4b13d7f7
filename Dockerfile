# dkv: one node per container. Build: `docker build -t dkv .`; a three-node
# cluster: docker-compose.yml. Configured by the DKV_* variables (README,
# "Configuration"); the defaults below suit a container.

# Build stage: compile src/ to plain JavaScript (dist/), so the image runs
# node on compiled code instead of loading TypeScript through tsx at start-up.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: every native dependency (lmdb, msgpackr-extract) ships
# prebuilt binaries in optional packages, as in development.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, in their own stage so the compilers stay out.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-slim
# tini as PID 1: it forwards SIGTERM/SIGINT to node (which then shuts down
# cleanly: DKV_SHUTDOWN_TIMEOUT_MS) and reaps zombies; node as PID 1 would get
# no default signal handling from the kernel.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The .proto files are read at run time (gRPC server reflection).
COPY proto ./proto
# `dkv` on PATH runs the compiled entry point, the same one bin/dkv.js runs
# from the TypeScript sources: the daemon without arguments (the CMD below),
# and `docker exec <container> dkv ...` for the client subcommands.
RUN printf '#!/bin/sh\nexec node --enable-source-maps /app/dist/cli/index.js "$@"\n' > /usr/local/bin/dkv \
  && chmod 755 /usr/local/bin/dkv \
  && mkdir -p /data \
  && chown node:node /data

# The LMDB environment lives in the volume; a new named volume is created
# from this directory, so it is owned by the node user too.
VOLUME ["/data"]
ENV NODE_ENV=production \
    DKV_DB_PATH=/data \
    DKV_BIND_HOST=0.0.0.0 \
    DKV_RPC_PORT=7070 \
    DKV_REST_PORT=7071
# 7070: gRPC (client API and Raft traffic between nodes); 7071: REST/JSON.
EXPOSE 7070 7071

# Not root: the node user (uid 1000) of the base image.
USER node

# Healthy once /readyz on the REST port answers 200 (a leader is known and
# this node has caught up): src/health-probe.ts, with node's own fetch, as
# the image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/dist/health-probe.js"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["dkv"]
