#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for FashionLab's Slurm tests (and for trying `--slurm` by hand).
#
#   scripts/slurm-local.sh start    # munged, slurmctld, slurmd; returns when the node is idle
#   scripts/slurm-local.sh stop     # stops what `start` started
#   scripts/slurm-local.sh status   # sinfo
#
# Needs root and Debian's slurm-wlm and munge (`.ci/run` installs them). State, spool and logs go under
# $FASHIONLAB_SLURM_DIR (default /tmp/fashionlab-slurm). The configuration is written to /etc/slurm/slurm.conf,
# where Debian's sbatch, squeue and sinfo read it, unless that file exists and was not written by this script
# (a real cluster's): then it refuses, and touches nothing.
set -euo pipefail

state=${FASHIONLAB_SLURM_DIR:-/tmp/fashionlab-slurm}
conf=/etc/slurm/slurm.conf
marker="# Written by FashionLab's scripts/slurm-local.sh"

fail() { echo "slurm-local.sh: $*" >&2; exit 1; }

stop_pid_file() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop() {
  stop_pid_file "$state/slurmd.pid"
  stop_pid_file "$state/slurmctld.pid"
  stop_pid_file "$state/munged.pid"
  if [ -f "$conf" ] && head -1 "$conf" | grep -qF "$marker"; then rm -f "$conf"; fi
  echo "Slurm stopped (logs in $state)"
}

start() {
  [ "$(id -u)" = 0 ] || fail "start needs root (slurmd runs jobs as their user)"
  for tool in munged slurmctld slurmd sinfo sbatch; do
    command -v "$tool" >/dev/null || fail "$tool is missing; install Debian's slurm-wlm and munge"
  done
  if [ -f "$conf" ] && ! head -1 "$conf" | grep -qF "$marker"; then
    fail "$conf exists and was not written by this script (a real cluster's?); not touching it"
  fi
  # A previous cluster of ours, still running, goes first.
  stop >/dev/null 2>&1 || true

  local host cpus memory
  host=$(hostname -s)
  cpus=$(nproc)
  # RealMemory in MB, a little below the total so slurmd's own count never falls under it (the node would drain).
  memory=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)
  mkdir -p "$state/ctld" "$state/spool" /etc/slurm
  chmod 755 "$state"

  cat >"$conf" <<EOF
$marker (state and logs in $state); removed by its stop.
ClusterName=fashionlab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
MinJobAge=300
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

  # munged as the munge user, with its socket and key where Debian's clients look for them.
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$state/munged.pid"
  fi

  slurmctld -i
  slurmd
  for _ in $(seq 100); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^idle'; then
      echo "Slurm started: node $host, $cpus CPUs, ${memory} MB, partition debug (config $conf, logs in $state)"
      return 0
    fi
    sleep 0.2
  done
  sinfo 2>&1 || true
  tail -20 "$state/slurmctld.log" "$state/slurmd.log" 2>/dev/null || true
  fail "the node did not become idle in 20 s (logs above)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo ;;
  *) fail "usage: $0 start|stop|status" ;;
esac
