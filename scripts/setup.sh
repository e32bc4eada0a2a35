#!/usr/bin/env bash
# Installs what a fresh Debian machine with only Node and npm lacks, and nothing more:
#   - librdkafka1 (the embedded Kafka is librdkafka's mock cluster, loaded through koffi)
#   - kcat (an independent Kafka client used by the integration tests)
#   - chromium (browser tests of the web UI drive Debian's chromium via playwright-core)
#   - prometheus (promtool builds the TSDB block `npm run bench -- archive` compares the archive's bytes with)
#   - prometheus-alertmanager (its `amtool` is the client of the notifier's Alertmanager API v2 tests)
#   - Java 17 (JDK) and Maven, then the Apache Kafka broker Vigil runs (kafka/pom.xml), assembled from Maven
#     Central into ~/.cache/vigil/kafka by scripts/kafka-dist.sh
#   - node_modules from the committed lockfile (npm ci) when absent or older than the lockfile
#   - fixes to dependencies in patches/ (patch-package; npm ci applies them through postinstall, this
#     re-applies them when a patch is newer than the last application)
# Idempotent: a second run on a set-up machine only checks and prints nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ldconfig -p 2>/dev/null | grep -q 'librdkafka\.so\.1 ' || missing+=(librdkafka1)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ldconfig -p | grep -q 'librdkafka\.so\.1 ' || { echo "setup: librdkafka1 did not install" >&2; exit 1; }
fi

# The Kafka broker's class path (a no-op once the cache holds this pom's artifacts).
bash scripts/kafka-dist.sh >/dev/null

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

marker=node_modules/.vigil-patches-applied
if [ -n "$(find patches -name '*.patch' -newer "$marker" 2>/dev/null)" ] || [ ! -e "$marker" ]; then
  npx --no-install patch-package --error-on-fail >/dev/null
  touch "$marker"
fi
