# syntax=docker/dockerfile:1
# Trove's container image: built in one stage (TypeScript, native SQLite bindings), run from a
# second that holds only the compiled server and its production dependencies, as a non-root user.
#
#   docker build -t trove .
#   docker run -p 9000:9000 -v trove-data:/data trove
#
# Settings come from TROVE_* environment variables, flags after `server`, or a configuration file
# mounted into the container (`server --config /etc/trove/trove.yaml`); see README, "Running in
# production".

ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts off: `prepare` would compile sources not copied yet; the native module is built below.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npx tsc -p . && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    TROVE_ADDRESS=0.0.0.0:9000 \
    TROVE_DATA_DIR=/data
RUN groupadd --system --gid 10001 trove \
 && useradd --system --uid 10001 --gid trove --home-dir /data --no-create-home --shell /usr/sbin/nologin trove \
 && mkdir -p /data /etc/trove \
 && chown trove:trove /data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
USER trove
VOLUME ["/data"]
EXPOSE 9000
# Liveness of the S3 listener (plain HTTP on 9000: with --tls-cert, or another address, change it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9000/_trove/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["server"]
