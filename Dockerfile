# syntax=docker/dockerfile:1
# The berth image: the controller with production dependencies only.
#   docker build -t berth .
#   docker run --rm -v "$PWD/specs:/specs:ro" berth validate /specs
# NODE_IMAGE lets a machine without a registry build from a locally made Node image.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
# Specs are mounted read-only here.
VOLUME ["/specs"]
ENTRYPOINT ["node", "/app/bin/berth.js"]
CMD ["validate", "/specs"]
