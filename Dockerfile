# syntax=docker/dockerfile:1
# One image for every rfbatch process: the command picks the role
# (`workers --only ingest`, `workers --only jobs`, `workers --only export`, `gateway`, `emulator`).
# The build stage compiles the TypeScript (`tsc -b` → each workspace's dist/); the image runs that
# compiled JS with plain node: no TypeScript sources, no tsx, no devDependencies.

# Every workspace manifest (npm ci checks them all against package-lock.json), nothing else.
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/emulator/package.json packages/emulator/
COPY packages/worker-kit/package.json packages/worker-kit/
COPY packages/run-control/package.json packages/run-control/
COPY packages/preflight/package.json packages/preflight/
COPY packages/report/package.json packages/report/
COPY packages/object-store/package.json packages/object-store/
COPY packages/testkit/package.json packages/testkit/
COPY apps/cli/package.json apps/cli/
COPY services/ingest/package.json services/ingest/
COPY services/jobs/package.json services/jobs/
COPY services/export/package.json services/export/
COPY services/gateway/package.json services/gateway/
COPY test/package.json test/
COPY bench/package.json bench/

# What the image runs with: production dependencies only (rebuilt only when a manifest changes).
FROM manifests AS deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The compiler and its inputs; /out gets each runtime workspace's package.json, dist/ and bin/.
FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
COPY apps ./apps
# apps/cli and every project it references (the packages and services), not the tests.
RUN npx tsc -b apps/cli \
 && for dir in packages/* services/* apps/*; do \
      [ -d "$dir/dist" ] || continue; \
      mkdir -p "/out/$dir" && cp -r "$dir/package.json" "$dir/dist" "/out/$dir/"; \
      if [ -d "$dir/bin" ]; then cp -r "$dir/bin" "/out/$dir/"; fi; \
    done \
 && find /out -name '*.d.ts' -delete

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RFBATCH_WORK_DIR=/data/work \
    LOG_FORMAT=json \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
# The workspace links in node_modules/@rfbatch point at these folders (plain node resolves each
# package's "exports" to its dist/); the test kit, test/ and bench/ stay out.
COPY --from=build /out ./
RUN mkdir -p /data/work /data/in /data/out && chown -R node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "apps/cli/bin/rfbatch.js"]
CMD ["--help"]
