#!/usr/bin/env bash
# Start or stop a private CNCF distribution registry (Debian's
# `docker-registry`) for the tests and benches. Everything lives in DIR:
#   scripts/registry.sh start DIR [ADDR]   # writes DIR/config.yml unless it exists,
#                                          # starts the registry, waits until it listens
#   scripts/registry.sh stop DIR           # stops the one started there (by its pid)
# The config's http.addr is ADDR (default 127.0.0.1:5000); storage is DIR/storage.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [ADDR]" >&2; exit 2; }

case "$cmd" in
start)
    command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 3; }
    mkdir -p "$dir/storage"
    addr=${3:-127.0.0.1:5000}
    if [ ! -f "$dir/config.yml" ]; then
        cat > "$dir/config.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $dir/storage }, delete: { enabled: true } }
http: { addr: $addr }
YML
    fi
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "already running (pid $(cat "$dir/pid"))" >&2
        exit 0
    fi
    addr=$(sed -n 's/.*addr: *\([^ ,}]*\).*/\1/p' "$dir/config.yml" | head -1)
    nohup docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    host=${addr%:*}; port=${addr##*:}
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            exit 0
        fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "the registry exited:" >&2; cat "$dir/log" >&2; exit 1; }
        sleep 0.1
    done
    echo "the registry did not listen on $addr within 10 s" >&2
    exit 1
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [ADDR]" >&2
    exit 2
    ;;
esac
