#!/usr/bin/env bash
# Assembles the Apache Kafka broker Vigil runs (kafka/pom.xml) into a cache outside the repository and prints
# its directory: <cache>/<key>/libs/*.jar (the class path) and <cache>/<key>/classes (the launcher).
#   cache: $VIGIL_KAFKA_CACHE, default ~/.cache/vigil/kafka
#   key:   the Kafka version + a hash of kafka/pom.xml and kafka/VigilKafkaLauncher.java (a change rebuilds)
# Needs java, javac and mvn (scripts/setup.sh installs them from Debian when missing); artifacts come from
# Maven Central. Idempotent: when the directory is complete it only prints it. Safe to run concurrently.
set -euo pipefail
cd "$(dirname "$0")/.."

pom=kafka/pom.xml
launcher=kafka/VigilKafkaLauncher.java
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
hash=$(cat "$pom" "$launcher" | sha256sum | cut -c1-12)
cache=${VIGIL_KAFKA_CACHE:-${HOME:-/root}/.cache/vigil/kafka}
dir="$cache/kafka-$version-$hash"

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -f "$dir/.complete" ]; then
    echo "kafka-dist: assembling Apache Kafka $version from Maven Central into $dir" >&2
    tmp=$(mktemp -d "$cache/.build-XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp/libs" -DincludeScope=runtime >&2
    mkdir -p "$tmp/classes"
    javac -d "$tmp/classes" "$launcher"
    ls "$tmp/libs/kafka_2.13-$version.jar" >/dev/null
    rm -rf "$dir"
    mv "$tmp" "$dir"
    trap - EXIT
    touch "$dir/.complete"
  fi
fi
echo "$dir"
