# syntax=docker/dockerfile:1
# One image for every rfbatch process: the command picks the role
# (`workers --only ingest`, `workers --only jobs`, `workers --only export`, `gateway`, `emulator`).
# TypeScript runs directly through tsx (no build step), exactly as in development.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/emulator/package.json packages/emulator/
COPY packages/worker-kit/package.json packages/worker-kit/
COPY packages/run-control/package.json packages/run-control/
COPY packages/preflight/package.json packages/preflight/
COPY apps/cli/package.json apps/cli/
COPY services/ingest/package.json services/ingest/
COPY services/jobs/package.json services/jobs/
COPY services/export/package.json services/export/
COPY services/gateway/package.json services/gateway/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RFBATCH_WORK_DIR=/data/work \
    LOG_FORMAT=json \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages ./packages
COPY services ./services
COPY apps ./apps
# The workspace links in node_modules/@rfbatch point at these folders; test/ and bench/ stay out.
RUN mkdir -p /data/work /data/in /data/out && chown -R node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "apps/cli/bin/rfbatch.js"]
CMD ["--help"]
