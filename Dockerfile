# syntax=docker/dockerfile:1
# One image, two binaries: auth-server and resource-server (plus the bootstrap script).

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The caches keep the registry and the build between image builds; the binaries are copied out of
# the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p auth-server -p resource-server \
    && mkdir -p /out \
    && cp target/release/auth-server target/release/resource-server /out/

FROM debian:bookworm-slim
# libssl3: libpq (built into the binaries) links OpenSSL; curl: health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libssl3 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /app oauth \
    && install -d -m 700 -o oauth -g oauth /var/lib/oauth-bootstrap
COPY --from=builder /out/auth-server /out/resource-server /usr/local/bin/
COPY scripts/bootstrap /usr/local/bin/oauth-bootstrap
USER oauth
WORKDIR /app
# Listen on every interface inside the container; publish ports through the load balancer only.
ENV AUTH_BIND=0.0.0.0:8000 \
    RESOURCE_BIND=0.0.0.0:8001
EXPOSE 8000 8001
CMD ["auth-server"]
