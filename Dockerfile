# drctl image: the Debian package (scripts/package-deb.sh) installed on a slim Debian 12, run as
# the non-root user `drctl` (uid 10001, as deploy/kubernetes runs it). Each stage runs a script
# scripts/test-package.sh runs, so that test covers what the image does:
#   build:   scripts/install-deps.sh package, then scripts/package-deb.sh (the release build,
#            Swift runtime linked statically, packaged as drctl_<VERSION>_<arch>.deb);
#   runtime: scripts/install-package.sh: the user drctl with uid 10001, scripts/install-deps.sh
#            host, then `apt-get install ./drctl_*.deb`, whose Depends (dpkg-shlibdeps, and libpq5
#            and libcurl4, which drctl loads on first use, named in deploy/debian/control) pull
#            the libraries drctl loads.
# The version is the VERSION file's: the binary's, the package's and so the image's.
# `host` brings the PostgreSQL client programs drctl runs (pg_dump, pg_dumpall, pg_restore,
# psql) and, for `drctl drill`, which starts scratch instances on loopback ports, postgresql-15
# and redis-server; no server runs in the image otherwise. drctl never runs redis-cli (it reads
# Redis over the replication protocol itself), so redis-tools is not installed.

FROM swift:6.3-bookworm AS build
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh package && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
WORKDIR /src
COPY VERSION Package.swift README.md ./
COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Tests ./Tests
COPY deploy ./deploy
COPY docs ./docs
COPY policies ./policies
COPY scripts ./scripts
RUN scripts/package-deb.sh /out

FROM debian:bookworm-slim
COPY scripts/install-deps.sh scripts/install-package.sh /tmp/
COPY --from=build /out/ /tmp/drctl-deb/
RUN /tmp/install-package.sh --uid 10001 /tmp/drctl-deb/drctl_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh /tmp/install-package.sh /tmp/drctl-deb
USER drctl
WORKDIR /var/lib/drctl
ENV DRCTL_POLICY=/etc/drctl/policy.yaml
# The agent's /metrics and /healthz (agent.listen; 0.0.0.0:9187 in deploy/kubernetes/policy.yaml).
EXPOSE 9187
ENTRYPOINT ["/usr/bin/drctl"]
CMD ["--help"]
