# syntax=docker/dockerfile:1
# wsgate's image, under the reference the Helm chart deploys by default:
#   docker build -t ghcr.io/wsgate/wsgate:0.1.0 .    (or: buildah bud -t ... .)
#   docker run --rm -p 8080:8080 -p 8443:8443 -p 9090:9090 ghcr.io/wsgate/wsgate:0.1.0 demo
# `npm run test:image` builds this file with buildah and runs the result (README "The container image")
# The final image holds Node 24, the files `npm pack` ships and the production dependencies:
# no shell, no package manager, and it runs as the distroless `nonroot` user (65532).

# Build: the full toolchain compiles TypeScript to dist/, bundles it into dist/bundle/wsgate.cjs
# (tools/bundle.ts: what runs, one file) and packs the package as npm would.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: nothing the build needs runs an install script, and none runs unreviewed
# (esbuild finds its binary in its platform package without one).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /app \
 && tar -xzf /tmp/wsgate-*.tgz -C /app --strip-components=1 \
 && cp package-lock.json /app/ \
 && cd /app \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm package-lock.json \
 && npm cache clean --force
# What never runs stays out: Node 24 refuses to strip types under node_modules, so TypeScript
# files there (declarations, dependencies' own tests) are dead weight, and so are source maps.
RUN find /app/node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete

# Run: distroless Node 24 on Debian 12.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="wsgate" \
      org.opencontainers.image.description="A Kubernetes Ingress controller built for WebSocket traffic" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/wsgate/wsgate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production
# COPY before WORKDIR: a WORKDIR made first would belong to the base image's user (nonroot), and
# the program could then rewrite its own files; root owns them, nonroot only reads them.
COPY --from=build --chown=0:0 /app /app
WORKDIR /app
USER nonroot
EXPOSE 8080 8443 9090
# Exec form: distroless has no shell, and wsgate must be PID 1 to receive SIGTERM and drain.
# The node flags are the data plane's (src/runtime/v8-flags.ts says why; the bench reads them here).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--initial-old-space-size=64", "/app/dist/bundle/wsgate.cjs"]
CMD ["--help"]
