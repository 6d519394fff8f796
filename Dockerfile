# syntax=docker/dockerfile:1
# sidecar-injector: build with dev dependencies, run with production dependencies only.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build

FROM node:24-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
# The server binds loopback by default; in a container it must listen on the pod's address.
ENV INJECTOR_HOST=0.0.0.0
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
# Development certificates (used only when no --tls-cert/--tls-key is given) go to certs/dev/.
RUN mkdir -p /app/certs /app/.cache && chown node:node /app/certs /app/.cache
USER node
# Node's compile cache (V8 code cache of every module), filled here so that a start reads it
# instead of compiling: ~200 ms less CPU until ready (docs/performance.md, "Start-up"). With a
# read-only root filesystem the server still reads it; a missing one only costs that time.
ENV NODE_COMPILE_CACHE=/app/.cache/node-compile-cache
COPY scripts/warm-compile-cache.mjs ./scripts/
RUN node scripts/warm-compile-cache.mjs
EXPOSE 9443
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
