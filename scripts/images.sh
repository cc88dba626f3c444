#!/usr/bin/env bash
# Builds the engine's container images, collections-silo and collections-gateway, with the .NET SDK
# (dotnet publish -t:PublishContainer: no Dockerfile, no container daemon), as image archives:
#
#   scripts/images.sh OUTDIR        writes OUTDIR/collections-silo.tar.gz and OUTDIR/collections-gateway.tar.gz
#                                   (podman load -i FILE, or docker load -i FILE)
#   scripts/images.sh --install     only installs podman, runc and docker-registry when missing (scripts/test.sh)
#
# With CONTAINER_BASE_IMAGE set (e.g. mcr.microsoft.com/dotnet/aspnet:10.0, what the SDK uses by default), the images
# are built on it. Where no registry can be reached (this project's machines), the base is made here: a root file system
# holding this machine's .NET runtime and the few system libraries it loads, pushed to a private registry on 127.0.0.1
# (Debian's docker-registry, with podman; both installed by this script when missing), which the SDK pulls from.
# Images run as the non-root user 1654 ("app", as in Microsoft's images) and listen on 8080.
set -euo pipefail

say() { printf 'images.sh: %s\n' "$*" >&2; }

install_tools() {
    local need=()
    command -v podman >/dev/null || need+=(podman runc)
    command -v docker-registry >/dev/null || need+=(docker-registry)
    [ ${#need[@]} -eq 0 ] && return 0
    say "installing ${need[*]} (Debian packages)"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

if [ "${1:-}" = "--install" ]; then
    install_tools
    exit 0
fi
out=${1:?usage: scripts/images.sh OUTDIR | --install}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

registry_pid=""
work=""
cleanup() {
    [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
    [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT

base=${CONTAINER_BASE_IMAGE:-}
if [ -z "$base" ]; then
    install_tools
    work=$(mktemp -d /tmp/collections-images.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
    docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
    registry_pid=$!
    for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.2; done

    # The base: this machine's .NET runtime (host, NETCore and AspNetCore shared frameworks) and what it loads.
    dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
    fs=$work/rootfs
    mkdir -p "$fs/usr/share/dotnet/shared" "$fs/etc/ssl/certs" "$fs/tmp" "$fs/usr/bin" "$fs/app"
    chmod 1777 "$fs/tmp"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$fs/usr/share/dotnet/"
    cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$fs/usr/share/dotnet/shared/"
    ln -s /usr/share/dotnet/dotnet "$fs/usr/bin/dotnet"
    libs=(/lib64/ld-linux-x86-64.so.2)
    for lib in libc.so.6 libdl.so.2 libm.so.6 libpthread.so.0 librt.so.1 libgcc_s.so.1 libstdc++.so.6 libz.so.1 libssl.so.3 libcrypto.so.3 \
               libicuuc.so.72 libicui18n.so.72 libicudata.so.72 libgomp.so.1 libresolv.so.2 libnss_dns.so.2 libnss_files.so.2; do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
        [ -n "$path" ] && libs+=("$path")
    done
    for lib in "${libs[@]}"; do
        mkdir -p "$fs$(dirname "$lib")"
        cp -L "$lib" "$fs$lib"
    done
    cp -L /etc/ssl/certs/ca-certificates.crt "$fs/etc/ssl/certs/"
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:1654:1654:app:/home/app:/usr/sbin/nologin\n' > "$fs/etc/passwd"
    printf 'root:x:0:\napp:x:1654:\n' > "$fs/etc/group"
    printf 'hosts: files dns\n' > "$fs/etc/nsswitch.conf"
    mkdir -p "$fs/home/app" && chown 1654:1654 "$fs/home/app"
    base="127.0.0.1:$port/collections-base:10.0"
    tar -C "$fs" -cf "$work/rootfs.tar" .
    podman import --quiet --change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'ENV PATH=/usr/share/dotnet:/usr/bin:/bin' \
        --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true' "$work/rootfs.tar" "$base" >/dev/null
    podman push --quiet --tls-verify=false "$base" >/dev/null
    podman rmi --force "$base" >/dev/null 2>&1 || true
    export DOTNET_CONTAINER_INSECURE_REGISTRIES=127.0.0.1:$port
    say "base image $base: $(du -sh "$work/rootfs.tar" | cut -f1) (this machine's .NET runtime and its libraries)"
fi

for project in Silo Gateway; do
    name=collections-$(tr '[:upper:]' '[:lower:]' <<< "$project")
    say "publishing $name on $base"
    dotnet publish "$root/src/$project" -c Release -t:PublishContainer -v q -nologo \
        -r linux-x64 --self-contained false -p:ContainerBaseImage="$base" -p:ContainerArchiveOutputPath="$out/$name.tar.gz" >&2
    say "$name: $(du -h "$out/$name.tar.gz" | cut -f1) ($out/$name.tar.gz)"
done
