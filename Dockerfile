# syntax=docker/dockerfile:1
# One image, two binaries: auth-server and resource-server, plus the bootstrap script and the
# health check; docker-compose.yml builds it once for every service that runs our code.
#
#   docker build -t oauth-services --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Three stages: the build (rust:1-bookworm); the runtime's root file system, assembled from
# debian:bookworm-slim; and the image itself, FROM scratch with only that file system in it.

FROM rust:1-bookworm AS builder
WORKDIR /src
# Only what the build reads (.dockerignore keeps target/ and data/ out of the context anyway), so
# that a change to a script or a document does not run this stage again.
COPY Cargo.toml Cargo.lock ./
COPY shared shared
COPY auth-server auth-server
COPY resource-server resource-server
COPY migrations migrations
# The caches keep the registry and the build between image builds; the binaries are copied out of
# the cached target directory in the same step. --locked: exactly the versions in Cargo.lock.
# Stripped of their symbol tables: 36 MB instead of 43.
# REVISION also goes into the binaries, for /metrics' build_info (the context has no .git).
# cargo finds what changed by modification times, and COPY keeps the context's: a source file
# older than the cached build of an earlier context (edited while that build ran) was taken for
# built, and the image failed to link. Touched first, the workspace's own sources are always
# newer than the cache, so its crates are built from them; the dependencies stay cached.
ARG REVISION=unknown
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    find Cargo.toml shared auth-server resource-server migrations -type f -exec touch {} + \
    && GIT_REVISION="${REVISION}" cargo build --release --locked -p auth-server -p resource-server \
    && mkdir -p /out \
    && cp target/release/auth-server target/release/resource-server /out/ \
    && strip --strip-all /out/auth-server /out/resource-server

# The runtime's root file system, in /rootfs: the binaries and the scripts, the shared libraries
# they load (OpenSSL for libpq, glibc), bash and the few tools the scripts call, and no package
# manager. dpkg's record of the packages these files come from goes in var/lib/dpkg/status.d/, as
# in distroless images, so that image scanners know what is there.
FROM debian:bookworm-slim AS rootfs
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/auth-server /out/resource-server /rootfs/usr/local/bin/
COPY scripts/bootstrap /rootfs/usr/local/bin/oauth-bootstrap
COPY deploy/healthcheck /rootfs/usr/local/bin/oauth-healthcheck
RUN set -eu; \
    cd /rootfs; \
    for d in bin lib lib64 sbin; do \
        if [ -L "/$d" ]; then mkdir -p "usr/$d" && ln -s "usr/$d" "$d"; fi; \
    done; \
    tools="bash dash env cat head base64 tr chmod sed ls mkdir rm"; \
    files=$(for t in $tools; do readlink -f "$(command -v "$t")"; done); \
    libs=$(ldd $files usr/local/bin/auth-server usr/local/bin/resource-server \
        | sed -n 's|.*=> \(/[^ ]*\) .*|\1|p; s|^[[:space:]]*\(/[^ ]*\) (.*|\1|p' | sort -u); \
    for f in $files $libs; do cp -L --parents "$f" .; done; \
    ln -s dash usr/bin/sh; \
    for f in /etc/ld.so.conf /etc/ld.so.conf.d /etc/nsswitch.conf /etc/ssl/openssl.cnf; do \
        if [ -e "$f" ]; then cp -a --parents "$f" .; fi; \
    done; \
    chmod 755 etc; \
    ldconfig -r /rootfs; \
    printf 'root:x:0:0:root:/root:/usr/bin/bash\noauth:x:10001:10001::/app:/usr/bin/bash\n' >etc/passwd; \
    printf 'root:x:0:\noauth:x:10001:\n' >etc/group; \
    install -d -m 1777 tmp; \
    install -d -m 700 -o 10001 -g 10001 app var/lib/oauth-bootstrap; \
    install -d var/lib/dpkg/status.d; \
    for f in $files $libs; do \
        dpkg -S "$f" 2>/dev/null || dpkg -S "${f#/usr}" 2>/dev/null || dpkg -S "/usr$f"; \
    done | cut -d: -f1 | sort -u | while read -r pkg; do \
        dpkg-query -s "$pkg" >"var/lib/dpkg/status.d/$pkg"; \
    done; \
    echo "rootfs: $(du -sh . | cut -f1), packages: $(ls var/lib/dpkg/status.d | tr '\n' ' ')"

FROM scratch
COPY --from=rootfs /rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    AUTH_BIND=0.0.0.0:8000 \
    RESOURCE_BIND=0.0.0.0:8001
USER 10001:10001
WORKDIR /app
# Listen on every interface inside the container; publish ports through the load balancer only.
EXPOSE 8000 8001
# /readyz of whichever server this container runs (deploy/healthcheck: bash, no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["oauth-healthcheck"]
CMD ["auth-server"]

# Last, so that a new revision rebuilds nothing but these.
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="oauth-services" \
      org.opencontainers.image.description="OAuth2 auth server and resource server (auth-server, resource-server)" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
