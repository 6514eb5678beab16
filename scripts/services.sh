#!/bin/sh
# Start or stop a private container engine for the source tests:
#   scripts/services.sh start|stop podman|docker|containerd DIR
#   DOCKER_TCP=127.0.0.1:PORT scripts/services.sh start docker DIR
#     also has dockerd listen on that loopback TCP address (plain HTTP).
# Everything lives under DIR (storage, sockets, logs, pid file): nothing of
# the machine's own engines is touched. `start` waits until the socket
# answers and prints the socket path; `stop` ends only the process it
# started, by the pid in DIR/KIND.pid.
set -eu
action=${1:?usage: services.sh start|stop podman|docker|containerd DIR}
kind=${2:?usage: services.sh start|stop podman|docker|containerd DIR}
dir=${3:?usage: services.sh start|stop podman|docker|containerd DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile="$dir/$kind.pid"
sock="$dir/$kind.sock"
# vfs works everywhere (inside containers too) but copies every layer whole;
# the bench asks for overlay2 where the kernel allows it.
driver=${STORAGE_DRIVER:-vfs}

wait_for() { # wait_for SECONDS COMMAND...
	t=$1; shift
	i=0
	while [ "$i" -lt $((t * 10)) ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then break; fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "services.sh: $kind did not start; its log:" >&2
	tail -20 "$dir/$kind.log" >&2 || true
	return 1
}

ping() { curl -sf --unix-socket "$sock" http://localhost/_ping; }

case "$action/$kind" in
start/podman)
	podman --root "$dir/podman-root" --runroot "$dir/podman-run" --storage-driver "${driver%2}" \
		system service --time=0 "unix://$sock" >"$dir/$kind.log" 2>&1 &
	echo $! >"$pidfile"
	wait_for 60 ping
	;;
start/docker)
	# No networking of its own (no iptables, no bridge), its own containerd.
	# DOCKER_TCP: loopback only, since plain TCP gives root to whoever connects.
	tcp=
	if [ -n "${DOCKER_TCP:-}" ]; then
		case "$DOCKER_TCP" in
		127.*:*) tcp="tcp://$DOCKER_TCP" ;;
		*) echo "services.sh: DOCKER_TCP must be a loopback address (127.x.x.x:PORT)" >&2; exit 2 ;;
		esac
	fi
	dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver "$driver" \
		--data-root "$dir/docker-data" --exec-root "$dir/docker-exec" \
		--pidfile "$dir/docker-daemon.pid" -H "unix://$sock" ${tcp:+-H "$tcp"} >"$dir/$kind.log" 2>&1 &
	echo $! >"$pidfile"
	wait_for 120 ping
	;;
start/containerd)
	cat >"$dir/containerd.toml" <<CONF
version = 2
root = "$dir/containerd-root"
state = "$dir/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
CONF
	containerd --config "$dir/containerd.toml" >"$dir/$kind.log" 2>&1 &
	echo $! >"$pidfile"
	wait_for 60 ctr --address "$sock" version
	;;
stop/*)
	[ -f "$pidfile" ] || exit 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$pidfile"
	# overlay storage leaves its mounts behind; only those under DIR.
	awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || true; done
	exit 0
	;;
*)
	echo "usage: services.sh start|stop podman|docker|containerd DIR" >&2
	exit 2
	;;
esac
echo "$sock"
