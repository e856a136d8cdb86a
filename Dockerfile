# syntax=docker/dockerfile:1

# One image, three entry points (see docker-compose.yml):
#   API         node dist/src/api/main.js   (default CMD)
#   worker      node dist/src/worker/main.js
#   migrations  node dist/src/db/migrate.js
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript and bundle the workflow code ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Our postinstall would pip-install the Temporal dev binaries; an image talks to a real
# cluster instead. scripts/install-tools.js must honour this before loading anything else.
ENV FINFLOW_SKIP_TOOLS=1
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY db ./db
# tsc -p tsconfig.build.json, then dist/src/worker/bundle.js writes dist/workflow-bundle.js
RUN npm run build

# ---- runtime: production dependencies and compiled output only ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV FINFLOW_SKIP_TOOLS=1
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --omit=dev && npm cache clean --force
# Files stay owned by root: the app only reads them.
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
USER node
EXPOSE 3000
CMD ["node", "dist/src/api/main.js"]
