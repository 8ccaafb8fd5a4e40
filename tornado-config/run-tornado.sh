#!/usr/bin/env bash
# Runs the msts CLI under the TornadoVM SDK. `./msts --backend tornado ...` execs this script with the
# original arguments. It builds the CLI jar and the tornado module (Maven profile `tornado`, JDK 25) when
# they are missing or stale, then launches
#   java @$TORNADOVM_HOME/tornado-argfile <msts flags> -cp msts.jar:msts-tornado.jar msts.cli.Main "$@"
# Environment:
#   TORNADOVM_HOME        the TornadoVM SDK (holds tornado-argfile, bin/tornado, share/java/tornado)   [required]
#   MSTS_TORNADO_BACKEND  opencl (default) | ptx | spirv: adds tornado-config/flags/<backend>.flags
#   MSTS_TORNADO_FLAGS    extra JVM flags, e.g. "-Dtornado.device.memory=8GB -Dtornado.fullDebug=True"
#   MSTS_JAVA_OPTS        extra JVM flags (shared with ./msts), e.g. -Xmx24g
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFG="$ROOT/tornado-config"

die() { echo "msts: $*" >&2; exit 2; }

[ -n "${TORNADOVM_HOME:-}" ] || die "--backend tornado needs the TornadoVM SDK: set TORNADOVM_HOME to the SDK directory
  (the one containing tornado-argfile and bin/tornado). Installing TornadoVM: tornado-config/README.md.
  Without it, drop --backend tornado (the default backend is cpu)."
ARGFILE="$TORNADOVM_HOME/tornado-argfile"
[ -f "$ARGFILE" ] || die "TORNADOVM_HOME=$TORNADOVM_HOME has no tornado-argfile (is it the SDK directory?)"

# The SDK's version, from the name of its tornado-api jar (the build compiles against that jar, pom.xml
# property tornado.version names the one msts supports).
SUPPORTED="$(sed -n 's#.*<tornado.version>\(.*\)</tornado.version>.*#\1#p' "$ROOT/pom.xml" | head -1)"
API_JAR="$(ls "$TORNADOVM_HOME"/share/java/tornado/tornado-api-*.jar 2>/dev/null | grep -v -e sources -e javadoc | head -1 || true)"
[ -n "$API_JAR" ] || die "TornadoVM SDK at $TORNADOVM_HOME has no share/java/tornado/tornado-api-*.jar (is it the SDK directory?)"
FOUND="$(basename "$API_JAR" .jar)"; FOUND="${FOUND#tornado-api-}"
[ "$FOUND" = "$SUPPORTED" ] || die "TornadoVM SDK at $TORNADOVM_HOME is version $FOUND; msts supports $SUPPORTED"

java_major() { "$1/bin/java" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'; }
if [ -z "${JAVA_HOME:-}" ] || [ "$(java_major "$JAVA_HOME" 2>/dev/null || echo 0)" != 25 ]; then
  for d in /usr/lib/jvm/*; do
    if [ -x "$d/bin/java" ] && [ "$(java_major "$d")" = 25 ]; then JAVA_HOME="$d"; break; fi
  done
fi
[ -n "${JAVA_HOME:-}" ] && [ "$(java_major "$JAVA_HOME")" = 25 ] || die "TornadoVM 5.2.0-jdk25 needs JDK 25 (set JAVA_HOME)"
export JAVA_HOME TORNADOVM_HOME

CLI_JAR="$ROOT/cli/target/msts.jar"
T_JAR="$(ls "$ROOT"/tornado/target/msts-tornado-*.jar 2>/dev/null | grep -v -e sources -e tests | head -1 || true)"
stale() {
  [ -f "$CLI_JAR" ] && [ -n "$T_JAR" ] && [ -f "$T_JAR" ] || return 0
  [ -n "$(find "$ROOT" \( -name '*.java' -o -name '*.c' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$T_JAR" -print -quit 2>/dev/null)" ] ||
  [ -n "$(find "$ROOT" \( -name '*.java' -o -name '*.c' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$CLI_JAR" -print -quit 2>/dev/null)" ]
}
if stale; then
  echo "msts: building the CLI and the TornadoVM module (mvn -Ptornado package)..." >&2
  (cd "$ROOT" && mvn -q -B -DskipTests -Ptornado -pl cli,tornado -am package >&2) || die "build failed"
  T_JAR="$(ls "$ROOT"/tornado/target/msts-tornado-*.jar | grep -v -e sources -e tests | head -1)"
fi

# The SDK argfile puts "." first on the module path, so stray jars in the working directory would be
# loaded as modules. Use a copy without it (regenerated when the SDK changes).
MSTS_ARGFILE="$ROOT/tornado/target/tornado-argfile.msts"
if [ ! -f "$MSTS_ARGFILE" ] || [ "$ARGFILE" -nt "$MSTS_ARGFILE" ]; then
  sed -e 's#--module-path \.:#--module-path #' "$ARGFILE" > "$MSTS_ARGFILE"
fi

BACKEND_FLAGS=()
B="${MSTS_TORNADO_BACKEND:-opencl}"
[ -f "$CFG/flags/$B.flags" ] || die "MSTS_TORNADO_BACKEND=$B: no $CFG/flags/$B.flags (opencl, ptx or spirv)"
BACKEND_FLAGS+=("@$CFG/flags/$B.flags")

# The root command has no --backend option: a leading `--backend tornado` (as in
# `./msts --backend tornado forward ...`) moves to the end, where the subcommand reads it; for commands
# without the option (devices, info, ...) it is dropped.
args=("$@")
lead=0
if [ "${#args[@]}" -ge 2 ] && [ "${args[0]}" = "--backend" ]; then args=("${args[@]:2}"); lead=1;
elif [ "${#args[@]}" -ge 1 ] && [[ "${args[0]}" == --backend=* ]]; then args=("${args[@]:1}"); lead=1; fi
if [ "$lead" = 1 ] && [ "${#args[@]}" -ge 1 ]; then
  case "${args[0]}" in
    forward|harvest|train|eval) args+=(--backend tornado) ;;
  esac
fi

exec "$JAVA_HOME/bin/java" @"$MSTS_ARGFILE" "@$CFG/flags/common.flags" "${BACKEND_FLAGS[@]}" \
  ${MSTS_TORNADO_FLAGS:-} ${MSTS_JAVA_OPTS:-} \
  -cp "$CLI_JAR:$T_JAR" msts.cli.Main "${args[@]}" 2> >(grep -v 'Using incubator modules' >&2)
