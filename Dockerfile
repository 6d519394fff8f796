# syntax=docker/dockerfile:1
# sidecar-injector: build with dev dependencies, run the bundle alone (no node_modules).

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY scripts/bundle.mjs ./scripts/
# tsc, then esbuild bundles dist/src and the packages it imports into dist/bin.
RUN npm run build

# The runtime needs no node_modules: the bundle carries every package it uses (their licences in
# dist/bin/THIRD-PARTY-NOTICES.txt).
FROM node:24-slim
ENV NODE_ENV=production
# The server binds loopback by default; in a container it must listen on the pod's address.
ENV INJECTOR_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/dist/bin ./dist/bin
COPY package.json ./
# Development certificates (used only when no --tls-cert/--tls-key is given) go to certs/dev/.
RUN mkdir -p /app/certs /app/.cache && chown node:node /app/certs /app/.cache
USER node
# Node's compile cache (V8 code cache of every chunk), filled here so that a start reads it
# instead of compiling (docs/performance.md, "Start-up"). With a read-only root filesystem the
# server still reads it; a missing one only costs that time.
ENV NODE_COMPILE_CACHE=/app/.cache/node-compile-cache
COPY scripts/warm-compile-cache.mjs ./scripts/
RUN node scripts/warm-compile-cache.mjs
EXPOSE 9443
ENTRYPOINT ["node", "dist/bin/cli.js"]
CMD ["serve"]
