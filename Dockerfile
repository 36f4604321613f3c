# Build the single compiled binary, then run it alone on a slim base as a non-root user.
FROM node:22-bookworm-slim AS build
WORKDIR /src
# The postinstall script patches a dependency (docs/adr/0005): it must be there for `npm ci`.
COPY package.json package-lock.json ./
COPY tools/openapi-types/package.json tools/openapi-types/
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="switchboard" \
      org.opencontainers.image.description="Self-hosted registry and gateway for AI agents" \
      org.opencontainers.image.version="${VERSION}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home switchboard \
 && mkdir -p /data && chown switchboard:switchboard /data && chmod 700 /data
COPY --from=build /src/dist/switchboard /usr/local/bin/switchboard
USER switchboard
WORKDIR /data
ENV PORT=8080 HOST=0.0.0.0 DATABASE_URL=sqlite:/data/switchboard.db
VOLUME ["/data"]
EXPOSE 8080
# The image has no curl: the binary checks itself (GET /healthz on $PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/switchboard", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
