# Build the single compiled binary, then run it alone on a slim base as a non-root user.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY tools/openapi-types/package.json tools/openapi-types/
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
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
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
