#!/usr/bin/env bash
# Throughput of the Spark harvest per executor slot: msts harvest on one core (the peer), then the Spark harvest
# in local[1] and local[2] (one core per task: -Dmsts.threads=1), REPS runs each on a tiny random Gemma-2
# (hidden 256, 4 layers, layer 3), medians in tokens/s and the ratios. Prints `uptime` before and after.
#   scripts/spark-bench.sh [REPS]      (default 3; needs cli/target/msts.jar and spark/target/msts-spark.jar)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${1:-3}"
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  for d in /usr/lib/jvm/*; do
    if "$d/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then export JAVA_HOME="$d"; break; fi
  done
fi
JAVA="$JAVA_HOME/bin/java"
[ -f cli/target/msts.jar ] && [ -f spark/target/msts-spark.jar ] || mvn -B -q -ntp -pl cli,spark -am package -DskipTests
W="$(mktemp -d /tmp/msts-spark-bench.XXXXXX)"
trap 'rm -rf "$W"' EXIT
export SPARK_LOCAL_IP=127.0.0.1
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true"
FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Dmsts.threads=1"
"$JAVA" $FLAGS -jar cli/target/msts.jar tiny-model --out "$W/model" --seed 3 --hidden 256 --layers 4 > /dev/null
for i in $(seq 600); do
  printf '{"text": "Record %d: a %s harbour keeps %d boats and the model reads layer %d of its residual stream."}\n' \
    "$i" "$( [ $((i % 2)) = 0 ] && echo calm || echo busy )" $((i * 3)) $((i % 4))
done > "$W/corpus.jsonl"
ARGS=(--model "$W/model" --layer 3 --corpus "$W/corpus.jsonl" --context 64 --tokens 8192 --batch-seqs 4 --shard-seqs 8 --dtype bf16 --quiet)
echo "load before: $(uptime)"
rate() { sed -n 's/.*(\([0-9.]*\) tok\/s.*/\1/p'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A R
for rep in $(seq "$REPS"); do
  rm -rf "$W"/out-*
  R[single]+="$("$JAVA" $FLAGS -jar cli/target/msts.jar harvest "${ARGS[@]}" --out "$W/out-single" | rate) "
  for m in 1 2; do
    # shellcheck disable=SC2086
    R[local$m]+="$("$JAVA" $OPENS $FLAGS -cp "spark/target/msts-spark.jar:$(cat spark/target/spark-classpath.txt)" \
      msts.spark.SparkHarvest harvest --master "local[$m]" "${ARGS[@]}" --out "$W/out-local$m" 2>/dev/null | rate) "
  done
  cmp -s "$W/out-single/shard_00015.safetensors" "$W/out-local2/shard_00015.safetensors" || { echo "stores differ"; exit 1; }
done
echo "load after:  $(uptime)"
for k in single local1 local2; do echo "$k tok/s: ${R[$k]}"; done
s=$(echo "${R[single]}" | tr ' ' '\n' | grep . | median)
l1=$(echo "${R[local1]}" | tr ' ' '\n' | grep . | median)
l2=$(echo "${R[local2]}" | tr ' ' '\n' | grep . | median)
awk -v s="$s" -v a="$l1" -v b="$l2" 'BEGIN { printf "medians tok/s: msts harvest (1 core) %.1f, local[1] %.1f, local[2] %.1f; local[1]/harvest %.2f, local[2]/local[1] %.2f\n", s, a, b, a/s, b/a }'
