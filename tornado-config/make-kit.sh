#!/usr/bin/env bash
# Assembles the msts device kit: a self-contained bundle to copy to a GPU machine that has no JDK and no network.
#
#   tornado-config/make-kit.sh [--out DIR] [--no-build]
#
# From what the user already has here — a JDK 25 (JAVA_HOME, with jlink/jdeps) and a TornadoVM SDK they built
# (TORNADOVM_HOME; this script never builds TornadoVM) — it puts into DIR (default target/msts-kit):
#   runtime/   a jlink'd Java runtime with only the modules msts + TornadoVM + the test launcher need (jdeps on
#              the jars, module resolution of the SDK's modules; jdk.internal.vm.ci for JVMCI)
#   sdk/       the SDK parts the runtime resolves: the explicit modules and the jars they require (share/java/…),
#              lib/ (the JNI library), etc/, and tornado-argfile.template (paths made relative to the kit)
#   lib/       msts.jar (CLI, foreign-platform natives dropped), msts-tornado.jar, msts-tornado-tests.jar
#              (the *AccelTest classes), junit-platform-console-standalone.jar (Maven Central)
#   flags/     tornado-config/flags/*.flags
#   scripts/   the PyTorch peers (bench_train_torch.py, bench_forward_torch.py)
#   bin/msts, bin/device-check, README.md  (from tornado-config/kit/)
# then packs it as DIR.tar.gz, or as two parts (DIR-runtime.tar.gz: runtime + sdk; DIR-app.tar.gz: the rest) when
# one archive exceeds MSTS_KIT_PART_MIB (default 60), and prints the sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/target/msts-kit"
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "msts: make-kit.sh: unknown argument $1 (--out DIR, --no-build)" >&2; exit 2 ;;
  esac
done
die() { echo "msts: make-kit.sh: $*" >&2; exit 1; }

# ---- inputs: JDK 25 and the SDK (same version check as run-tornado.sh) ----
[ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jlink" ] || die "set JAVA_HOME to a JDK 25 with jlink (e.g. Temurin 25)"
JV="$("$JAVA_HOME/bin/java" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}')"
[ "$JV" = 25 ] || die "JAVA_HOME=$JAVA_HOME is Java $JV; TornadoVM 5.2.0-jdk25 needs JDK 25"
[ -n "${TORNADOVM_HOME:-}" ] && [ -f "$TORNADOVM_HOME/tornado-argfile" ] || die "set TORNADOVM_HOME to the TornadoVM SDK directory (it has tornado-argfile)"
SDK="$(cd "$TORNADOVM_HOME" && pwd)"
SUPPORTED="$(sed -n 's#.*<tornado.version>\(.*\)</tornado.version>.*#\1#p' "$ROOT/pom.xml" | head -1)"
API_JAR="$(ls "$SDK"/share/java/tornado/tornado-api-*.jar 2>/dev/null | head -1 || true)"
FOUND="$(basename "${API_JAR:-tornado-api-none.jar}" .jar)"; FOUND="${FOUND#tornado-api-}"
[ "$FOUND" = "$SUPPORTED" ] || die "TornadoVM SDK at $SDK is version $FOUND; msts supports $SUPPORTED"
JUNIT="$(sed -n 's#.*<junit.version>\(.*\)</junit.version>.*#\1#p' "$ROOT/pom.xml" | head -1)"
PLATFORM="1.${JUNIT#5.}" # JUnit 5.x.y ships with Platform 1.x.y
export PATH="$JAVA_HOME/bin:$PATH"

# ---- build the jars (CLI fat jar, tornado module, its test classes) ----
if [ "$BUILD" = 1 ]; then
  echo "make-kit: building msts (mvn -Ptornado -pl cli,tornado -am package, tests skipped)..." >&2
  (cd "$ROOT" && mvn -B -q -DskipTests -Ptornado -pl cli,tornado -am package >&2) || die "build failed"
fi
CLI_JAR="$ROOT/cli/target/msts.jar"
T_JAR="$(ls "$ROOT"/tornado/target/msts-tornado-*.jar 2>/dev/null | grep -v -e sources -e tests | head -1 || true)"
[ -f "$CLI_JAR" ] && [ -n "$T_JAR" ] && [ -d "$ROOT/tornado/target/test-classes/msts" ] || die "no built jars/test classes (run without --no-build)"

rm -rf "$OUT"
mkdir -p "$OUT"/{lib,flags,scripts,bin,sdk}

# ---- the SDK parts the TornadoVM modules resolve to ----
MODS="$(sed -n 's#^--add-modules ##p' "$SDK/tornado-argfile" | tr ',' '\n' | grep -v '^ALL-' | paste -sd, -)"
[ -n "$MODS" ] || die "no --add-modules line in $SDK/tornado-argfile"
RES="$(java -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI --module-path "$SDK/share/java/tornado" \
  --upgrade-module-path "$SDK/share/java/graalJars" --limit-modules "$MODS" --add-modules "$MODS" \
  --show-module-resolution -version 2>&1)" || die "the SDK's modules do not resolve on $JAVA_HOME: $(echo "$RES" | tail -1)"
# automatic modules (no module-info) require everything; keep only what explicit modules require
declare -A AUTO=()
for j in $(echo "$RES" | grep -o 'file://[^ ]*' | sed 's#^file://##' | sort -u); do
  d="$(jar --describe-module --file "$j" 2>/dev/null | grep -m1 '@' || true)"
  case "$d" in *" automatic") AUTO["${d%%@*}"]=1 ;; esac
done
KEEP="$(echo "$RES" | awk '$2 == "requires" || $2 == "binds" || $1 == "root" {print}' | while read -r a b c f; do
  if [ "$a" = root ]; then f="$c"; fi
  f="${f%% *}" # drop a trailing "automatic"
  [ -n "${AUTO[$a]:-}" ] && continue
  case "$f" in file://*) echo "${f#file://}" ;; esac
done | sort -u)"
JRT="$(echo "$RES" | grep -o 'jrt:/[^ ]*' | sed 's#jrt:/##' | sort -u | paste -sd, -)"
for f in $KEEP; do
  rel="${f#"$SDK"/}"
  mkdir -p "$OUT/sdk/$(dirname "$rel")"
  cp "$f" "$OUT/sdk/$rel"
done
cp -r "$SDK/lib" "$OUT/sdk/lib"
[ -d "$SDK/etc" ] && cp -r "$SDK/etc" "$OUT/sdk/etc"
for l in LICENSE_APACHE2 LICENSE_GPLv2CE LICENSE_MIT; do [ -f "$SDK/$l" ] && cp "$SDK/$l" "$OUT/sdk/"; done
# argfile: SDK paths → @KIT_SDK@ (bin/msts writes the real one), no "." on the module path
sed -e "s#$SDK#@KIT_SDK@#g" -e 's#--module-path \.:#--module-path #' "$SDK/tornado-argfile" > "$OUT/sdk/tornado-argfile.template"

# ---- msts jars ----
ARCH="$(uname -m)"; case "$ARCH" in x86_64|amd64) NATIVE=linux-x86_64; JNA=linux-x86-64 ;; aarch64|arm64) NATIVE=linux-aarch64; JNA=linux-aarch64 ;; *) NATIVE=""; JNA="" ;; esac
cp "$CLI_JAR" "$OUT/lib/msts.jar"
if [ -n "$NATIVE" ] && command -v zip >/dev/null; then
  # natives of other platforms (DJL tokenizers, JNA) are dead weight on the target
  drop="$(unzip -Z1 "$OUT/lib/msts.jar" | grep -E '^(native/lib/|com/sun/jna/)[^/]+/' | grep -v -e "^native/lib/$NATIVE/" -e "^com/sun/jna/$JNA/" -e '/$' || true)"
  [ -n "$drop" ] && echo "$drop" | zip -q -d "$OUT/lib/msts.jar" -@ >/dev/null
fi
cp "$T_JAR" "$OUT/lib/msts-tornado.jar"
jar --create --file "$OUT/lib/msts-tornado-tests.jar" -C "$ROOT/tornado/target/test-classes" .
CONSOLE="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$PLATFORM/junit-platform-console-standalone-$PLATFORM.jar"
if [ ! -f "$CONSOLE" ]; then
  echo "make-kit: fetching junit-platform-console-standalone $PLATFORM from Maven Central..." >&2
  (cd "$ROOT" && mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$PLATFORM" >&2) ||
    die "could not get junit-platform-console-standalone $PLATFORM (Maven Central)"
fi
cp "$CONSOLE" "$OUT/lib/junit-platform-console-standalone.jar"

# ---- jlink: JDK modules of the SDK's resolution + jdeps of the jars ----
DEPS="$(jdeps --print-module-deps --ignore-missing-deps --multi-release 25 \
  "$OUT/lib/msts.jar" "$OUT/lib/msts-tornado.jar" "$OUT/lib/junit-platform-console-standalone.jar" 2>/dev/null | tail -1)"
JMODS="$(echo "$JRT,$DEPS,jdk.incubator.vector,jdk.internal.vm.ci,jdk.unsupported,jdk.management,java.management,jdk.zipfs" \
  | tr ',' '\n' | grep -v '^$' | sort -u | paste -sd, -)"
echo "make-kit: jlink --add-modules $JMODS" >&2
jlink --add-modules "$JMODS" --output "$OUT/runtime" --strip-debug --no-man-pages --no-header-files --compress=zip-9
echo "$JMODS" > "$OUT/runtime/MSTS_MODULES"

# ---- launcher, check, peers, flags ----
cp "$ROOT"/tornado-config/flags/*.flags "$OUT/flags/"
cp "$ROOT/scripts/bench_train_torch.py" "$ROOT/scripts/bench_forward_torch.py" "$OUT/scripts/"
cp "$ROOT/tornado-config/kit/msts" "$ROOT/tornado-config/kit/device-check" "$OUT/bin/"
cp "$ROOT/tornado-config/kit/README.md" "$OUT/README.md"
chmod +x "$OUT/bin/"*
{
  echo "msts $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "TornadoVM $FOUND ($(grep -h 'tornado.backends' "$SDK/etc/tornado.backend" 2>/dev/null || echo 'backends unknown'))"
  echo "Java $("$OUT/runtime/bin/java" -version 2>&1 | head -1)"
  echo "built $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -sm)"
} > "$OUT/VERSION"

# ---- pack ----
LIMIT=$(( ${MSTS_KIT_PART_MIB:-60} * 1024 * 1024 ))
PARENT="$(dirname "$OUT")"; NAME="$(basename "$OUT")"
rm -f "$PARENT/$NAME.tar.gz" "$PARENT/$NAME-runtime.tar.gz" "$PARENT/$NAME-app.tar.gz"
tar -C "$PARENT" -czf "$PARENT/$NAME.tar.gz" "$NAME"
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "kit: $OUT ($(du -sh "$OUT" | cut -f1) unpacked: runtime $(du -sh "$OUT/runtime" | cut -f1), sdk $(du -sh "$OUT/sdk" | cut -f1), lib $(du -sh "$OUT/lib" | cut -f1))"
if [ "$(stat -c %s "$PARENT/$NAME.tar.gz")" -gt "$LIMIT" ]; then
  rm "$PARENT/$NAME.tar.gz"
  tar -C "$PARENT" -czf "$PARENT/$NAME-runtime.tar.gz" "$NAME/runtime" "$NAME/sdk"
  tar -C "$PARENT" -czf "$PARENT/$NAME-app.tar.gz" --exclude "$NAME/runtime" --exclude "$NAME/sdk" "$NAME"
  echo "archives: $PARENT/$NAME-runtime.tar.gz ($(mib "$PARENT/$NAME-runtime.tar.gz")), $PARENT/$NAME-app.tar.gz ($(mib "$PARENT/$NAME-app.tar.gz"))"
  echo "on the GPU machine: tar xzf $NAME-runtime.tar.gz && tar xzf $NAME-app.tar.gz && $NAME/bin/device-check"
else
  echo "archive: $PARENT/$NAME.tar.gz ($(mib "$PARENT/$NAME.tar.gz"))"
  echo "on the GPU machine: tar xzf $NAME.tar.gz && $NAME/bin/device-check"
fi
