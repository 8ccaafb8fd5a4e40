#!/usr/bin/env bash
# The test command: builds every module and runs all tests (JDK 25 required; found like ./msts does).
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  for d in /usr/lib/jvm/*; do
    if "$d/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then export JAVA_HOME="$d"; break; fi
  done
fi
[ -n "${JAVA_HOME:-}" ] || { echo "test.sh: no JDK 25 found" >&2; exit 2; }
exec mvn -B -ntp verify "$@"
