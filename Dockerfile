# drctl image: built with the Swift toolchain, run as a non-root user on a slim Debian with only
# the runtime libraries and client tools drctl uses. The package lists are scripts/install-deps.sh's
# (`build` for the build stage, `host` for the runtime stage): one list for the image, a production
# host and the tests.
# postgresql-15 and redis-server are here for `drctl drill`, which starts scratch instances
# (initdb + pg_ctl, redis-server) on loopback ports; no server runs in the image otherwise.

FROM swift:6.3-bookworm AS build
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh build && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product drctl --static-swift-stdlib \
 && install -m 0755 "$(swift build -c release --show-bin-path)/drctl" /usr/local/bin/drctl

FROM debian:bookworm-slim
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh host \
 && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
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
