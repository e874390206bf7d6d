#!/bin/sh
# Create warroom's namespace if it is missing (the server image, unlike the deprecated auto-setup, creates none).
set -eu
NAMESPACE=${NAMESPACE:-default}
ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
attempt=1
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  [ "$attempt" -ge 60 ] && { echo "Temporal at $ADDRESS is not healthy"; exit 1; }
  attempt=$((attempt + 1))
  sleep 2
done
RETENTION=${RETENTION:-90d}
if temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1; then
  # An existing namespace gets the configured retention too: it is the horizon of every report.
  temporal operator namespace update --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION"
  echo "namespace '$NAMESPACE' exists; retention $RETENTION"
else
  temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION"
  echo "namespace '$NAMESPACE' created; retention $RETENTION"
fi
