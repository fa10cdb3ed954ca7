# syntax=docker/dockerfile:1
# Multi-stage build: the SDK compiles the exporter to one native executable (Native AOT), which runs
# on the runtime-deps image (no .NET runtime needed) as a non-root user.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Native AOT links with the platform toolchain (https://learn.microsoft.com/dotnet/core/deploying/native-aot/).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first so the package layer is cached while only sources change. global.json is left out
# on purpose: the image's SDK 10.0 builds the project whatever its feature band.
COPY NuGet.config Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/DifyUsageExporter/DifyUsageExporter.csproj src/DifyUsageExporter/
# Publishing for the image's runtime identifier compiles Native AOT (the csproj turns it on with a
# runtime identifier): a one-shot command (config --check, health, run --once) starts in tens of
# milliseconds and no CPU goes to JIT compilation (benchmarks/README.md). BuildKit sets TARGETARCH.
ARG TARGETARCH
RUN case "${TARGETARCH:-amd64}" in arm64) echo linux-arm64 ;; *) echo linux-x64 ;; esac > /tmp/rid \
    && dotnet restore src/DifyUsageExporter/DifyUsageExporter.csproj -r "$(cat /tmp/rid)"
COPY src/ src/
# The release workflow passes the tag's version (1.2.3); a local build keeps Directory.Build.props' <Version>.
ARG VERSION
RUN dotnet publish src/DifyUsageExporter/DifyUsageExporter.csproj -c Release -o /app --no-restore -r "$(cat /tmp/rid)" \
    ${VERSION:+-p:Version=$VERSION} \
    && rm -f /app/*.dbg /app/*.xml

# The native executable needs no .NET runtime: runtime-deps holds only what it links against (glibc,
# OpenSSL, CA certificates).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
# A dedicated unprivileged user owns the data volume; nothing runs as root.
RUN groupadd --system --gid 10001 exporter \
    && useradd --system --uid 10001 --gid exporter --home-dir /app --shell /usr/sbin/nologin exporter \
    && mkdir -p /app/data \
    && chown -R exporter:exporter /app/data
WORKDIR /app
COPY --from=build /app ./
ENV DATA_DIR=/app/data \
    HEALTHCHECK_HOST=0.0.0.0 \
    HEALTHCHECK_PORT=8080 \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    PATH="/app:${PATH}"
VOLUME ["/app/data"]
USER exporter
EXPOSE 8080
# The runtime image has no curl or wget: the exporter probes its own /health.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["/app/dify-usage-exporter", "health"]
ENTRYPOINT ["/app/dify-usage-exporter"]
CMD ["run"]
