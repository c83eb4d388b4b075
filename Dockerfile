# The berth image: `berth run` with production dependencies only, as a non-root user.
#
#   bash scripts/build-image.sh -t berth      # docker build, with the OCI labels' build arguments
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
# The OCI labels' values that only the builder knows (scripts/build-image.sh passes them): the
# version is package.json's, the creation time RFC 3339, the source the repository's URL.
ARG BERTH_VERSION=unknown
ARG BERTH_CREATED=unknown
ARG BERTH_SOURCE=unknown
ARG BERTH_REVISION=unknown

# The compiled JavaScript (the TypeScript toolchain stays in this stage).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no native add-on is built (ssh2's optional crypto binding is not needed to
# talk to a local socket), so the build needs no compiler and gives the same tree everywhere.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts/bundle.mjs ./scripts/
COPY schemas ./schemas
COPY src ./src
# The npm package (package.json `files`), unpacked into /package: the image ships what npm ships.
RUN npm run build \
  && npm pack --ignore-scripts --pack-destination /tmp >/dev/null \
  && mkdir /package && tar -xzf /tmp/berth-*.tgz -C /package --strip-components=1

# The production dependencies, from the lockfile alone: a change to src/ reuses this layer.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG BERTH_VERSION BERTH_CREATED BERTH_SOURCE BERTH_REVISION
LABEL org.opencontainers.image.title="berth" \
  org.opencontainers.image.description="A Kubernetes-style reconciling controller for one Docker host: YAML container specs in a folder, converged to labelled containers." \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${BERTH_VERSION}" \
  org.opencontainers.image.created="${BERTH_CREATED}" \
  org.opencontainers.image.source="${BERTH_SOURCE}" \
  org.opencontainers.image.revision="${BERTH_REVISION}"
# berth's own user, not root. It reaches the Docker socket through the socket's group, given at
# `docker run --group-add <gid>` (the gid differs between hosts, so it cannot be baked in).
# git and ssh for Git sources (`--git`, docs/gitops.md), where the base image has apt (the official
# Node images do; berth-test/node:local, made from the host without a package manager, does not).
RUN if command -v apt-get >/dev/null 2>&1; then \
  apt-get update -qq && apt-get install -y -qq --no-install-recommends git openssh-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*; fi
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
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /package ./
# `berth` on PATH (`docker exec berth berth status`), linked as `npm install -g` links a package's
# bin: whatever file package.json's `bin` names.
RUN node -e " \
  const fs = require('node:fs'); const { bin } = require('/app/package.json'); \
  for (const [name, file] of Object.entries(typeof bin === 'string' ? { berth: bin } : bin)) { \
    fs.chmodSync('/app/' + file, 0o755); fs.symlinkSync('/app/' + file, '/usr/local/bin/' + name); \
  }"
USER 10001:10001
EXPOSE 7435
# /run/berth (BERTH_STATE_DIR) holds the host lock, <id>.sock: with --read-only, give it a tmpfs
# (--tmpfs /run/berth), or a host folder shared by every berth of the host.
# Mount the specs here, read-only (berth never writes to them). No VOLUME: a forgotten mount
# should show as an empty, not-ready spec folder, not as a silently created anonymous volume.

# Readiness, not only liveness: /readyz answers 200 once a pass has run and while the engine
# answers (503 otherwise), on the port BERTH_LISTEN names, asked with node itself (the image has
# no curl or wget).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p = (process.env.BERTH_LISTEN || '').split(':').pop() || '7435'; require('node:http').get({ host: '127.0.0.1', port: p, path: '/readyz' }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1));"]
ENTRYPOINT ["berth"]
CMD ["run"]
