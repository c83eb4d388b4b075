# The berth image: `berth run` with production dependencies only, as a non-root user.
#
#   docker build -t berth .
#   docker run -d --name berth --init --restart unless-stopped --stop-timeout 40 \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD/specs:/specs:ro" \
#     -p 127.0.0.1:7435:7435 \
#     --read-only --tmpfs /run/berth --cap-drop ALL --security-opt no-new-privileges \
#     berth
#
# docs/deploy.md explains the choices. NODE_IMAGE lets a machine without a registry
# build from a locally made Node image (scripts/build-node-image.sh makes berth-test/node:local).
ARG NODE_IMAGE=node:22-bookworm-slim

# The compiled JavaScript (the TypeScript toolchain stays in this stage).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no native add-on is built (ssh2's optional crypto binding is not needed to
# talk to a local socket), so the build needs no compiler and gives the same tree everywhere.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY schemas ./schemas
COPY src ./src
RUN npm run build

# The production dependencies, from the lockfile alone: a change to src/ reuses this layer.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# berth's own user, not root. It reaches the Docker socket through the socket's group, given at
# `docker run --group-add <gid>` (the gid differs between hosts, so it cannot be baked in).
RUN echo 'berth:x:10001:10001:berth:/nonexistent:/usr/sbin/nologin' >>/etc/passwd \
  && echo 'berth:x:10001:' >>/etc/group \
  && mkdir /specs
ENV NODE_ENV=production \
  NODE_OPTIONS=--max-old-space-size=256 \
  BERTH_SPECS=/specs \
  BERTH_LISTEN=0.0.0.0:7435 \
  BERTH_LOG_FORMAT=json \
  BERTH_STATE_DIR=/run/berth
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY schemas ./schemas
USER 10001:10001
EXPOSE 7435
# /run/berth (BERTH_STATE_DIR) holds the host lock, <id>.sock: with --read-only, give it a tmpfs
# (--tmpfs /run/berth), or a host folder shared by every berth of the host.
# Mount the specs here, read-only (berth never writes to them). No VOLUME: a forgotten mount
# should show as an empty, not-ready spec folder, not as a silently created anonymous volume.

# /healthz on the port BERTH_LISTEN names, with node itself (the image has no curl or wget).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p = (process.env.BERTH_LISTEN || '').split(':').pop() || '7435'; require('node:http').get({ host: '127.0.0.1', port: p, path: '/healthz' }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1));"]
ENTRYPOINT ["node", "/app/bin/berth.js"]
CMD ["run"]
