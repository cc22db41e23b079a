#!/bin/sh
# For heartbeat.sh: waits until attempt N of the ledger has $1 heartbeats.
until [ "$(grep -c '"type":"attempt.heartbeat"' "$WR_LEDGER")" -ge "$1" ]; do sleep 0.05; done
