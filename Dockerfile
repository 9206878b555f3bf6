# drctl image: built with the Swift toolchain, run as a non-root user on a slim Debian with only
# the runtime libraries and client tools drctl uses. Keep the package lists in step with
# scripts/install-deps.sh (build: the -dev packages; runtime: their library packages).
# postgresql-15 and redis-server are here for `drctl drill`, which starts scratch instances
# (initdb + pg_ctl, redis-server) on loopback ports; no server runs in the image otherwise.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libzstd-dev libssl-dev libcurl4-openssl-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product drctl --static-swift-stdlib \
 && install -m 0755 "$(swift build -c release --show-bin-path)/drctl" /usr/local/bin/drctl

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libzstd1 libssl3 libcurl4 libpq5 libstdc++6 ca-certificates tzdata \
      postgresql-client-15 \
      postgresql-15 redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/drctl --create-home drctl
COPY --from=build /usr/local/bin/drctl /usr/local/bin/drctl
COPY policies/example.yaml /etc/drctl/policy.example.yaml
USER drctl
WORKDIR /var/lib/drctl
ENV DRCTL_POLICY=/etc/drctl/policy.yaml
# The agent's /metrics and /healthz (agent.listen; 0.0.0.0:9187 in deploy/kubernetes/policy.yaml).
EXPOSE 9187
ENTRYPOINT ["/usr/local/bin/drctl"]
CMD ["--help"]
