#!/usr/bin/env bash
# Harvest on a Spark standalone cluster started here from Maven's Spark jars (one master, one worker with 2 cores,
# one executor), submitted through SparkSubmit (what bin/spark-submit runs), compared byte for byte with
# `msts harvest` on one machine; then a cluster job is killed (kill -9 of the driver) after a few shards and
# re-run: it must compute only the missing shards and end with the same store.
#   scripts/spark-standalone.sh            (builds cli/target/msts.jar and spark/target/msts-spark.jar if missing)
# Exit 0 and "spark-standalone: N passed, 0 failed" when every check holds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  for d in /usr/lib/jvm/*; do
    if "$d/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then export JAVA_HOME="$d"; break; fi
  done
fi
JAVA="$JAVA_HOME/bin/java"
if [ ! -f cli/target/msts.jar ] || [ ! -f spark/target/msts-spark.jar ] || [ ! -f spark/target/spark-classpath.txt ]; then
  mvn -B -q -ntp -pl cli,spark -am package -DskipTests
fi

W="$(mktemp -d /tmp/msts-spark-standalone.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# A Spark installation made of links to the Maven jars (Hadoop 3.5.0 client: 3.4.1's fails on JDK 25)
export SPARK_HOME="$W/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR="$W/logs"
mkdir -p "$SPARK_HOME/jars" "$W/logs" "$W/work"
tr ':' '\n' < spark/target/spark-classpath.txt | while read -r j; do ln -s "$j" "$SPARK_HOME/jars/"; done
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"
MSTS_FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m"
port() { "$JAVA" -cp spark/target/msts-spark.jar msts.spark.FreePort 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
MP=$(port); MU=$(port); WU=$(port)
# shellcheck disable=SC2086
"$JAVA" $OPENS -Xmx512m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$MP" --webui-port "$MU" > "$W/logs/master.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 120); do grep -q "I have been elected leader" "$W/logs/master.log" && break; sleep 0.5; done
# shellcheck disable=SC2086
"$JAVA" $OPENS -Xmx512m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker --cores 2 --memory 3g \
  --work-dir "$W/work" --webui-port "$WU" "spark://127.0.0.1:$MP" > "$W/logs/worker.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 120); do grep -q "Successfully registered with master" "$W/logs/worker.log" && break; sleep 0.5; done
grep -q "Successfully registered with master" "$W/logs/worker.log" || { echo "spark-standalone: the worker did not register"; tail -20 "$W/logs/worker.log"; exit 1; }
echo "spark-standalone: master spark://127.0.0.1:$MP and one worker (2 cores) up; logs in $W/logs"

# a tiny random Gemma-2 (the Gemma tokenizer's vocabulary) and a generated corpus
"$JAVA" $MSTS_FLAGS -jar cli/target/msts.jar tiny-model --out "$W/model" --seed 7 --layers 2 > /dev/null
for i in $(seq 800); do
  printf '{"text": "Document %d: the %s river flows past %d old mills while a sparse autoencoder reads layer %d of the stream."}\n' \
    "$i" "$( [ $((i % 3)) = 0 ] && echo quiet || echo bright )" $((i * 7)) $((i % 5))
done > "$W/corpus.jsonl"
ARGS=(--model "$W/model" --layer 1 --corpus "$W/corpus.jsonl" --context 32 --tokens 6000 --batch-seqs 4 --shard-seqs 8 --dtype bf16 --quiet)

"$JAVA" $MSTS_FLAGS -jar cli/target/msts.jar harvest "${ARGS[@]}" --out "$W/one"
submit() { # out dir, then extra args; exec: a background submit is the driver JVM itself (kill -9 reaches it)
  local out="$1"; shift
  # shellcheck disable=SC2086
  exec "$JAVA" $OPENS $MSTS_FLAGS -Xmx2g -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit \
    --master "spark://127.0.0.1:$MP" --deploy-mode client --class msts.spark.SparkHarvest \
    --conf spark.ui.enabled=false --conf spark.executor.memory=2g --conf spark.executor.cores=2 \
    --conf "spark.executor.extraJavaOptions=-Dmsts.threads=1" \
    spark/target/msts-spark.jar harvest "${ARGS[@]}" --out "$out" "$@"
}
PASS=0; FAIL=0
check() { if eval "$2"; then PASS=$((PASS + 1)); echo "ok   $1"; else FAIL=$((FAIL + 1)); echo "FAIL $1"; fi; }
same() { [ "$(cd "$1" && ls -A | sort)" = "$(cd "$2" && ls -A | sort)" ] && for f in $(cd "$1" && ls -A); do cmp -s "$1/$f" "$2/$f" || return 1; done; }

submit "$W/two" 2> "$W/logs/submit-two.log" | tee "$W/two.out"
check "cluster store equals the single-machine store byte for byte" 'same "$W/one" "$W/two"'
check "the cluster run computed every shard (24)" 'grep -q "this run 24 shards (188 sequences)" "$W/two.out"'

# a killed job: the driver gets kill -9 once a few shards are in place
submit "$W/three" > "$W/three-killed.out" 2> "$W/logs/submit-killed.log" &
DRIVER=$!
PIDS+=($DRIVER)
for _ in $(seq 1200); do
  [ "$(ls "$W/three" 2>/dev/null | grep -c '^shard_')" -ge 3 ] && break; sleep 0.1
done
kill -9 "$DRIVER" 2>/dev/null || true; wait "$DRIVER" 2>/dev/null || true
DONE=$(ls "$W/three" | grep -c '^shard_' || true)
echo "spark-standalone: driver killed with $DONE shard files in place"
check "the killed job left shards but no complete manifest" '[ "$DONE" -ge 3 ] && grep -q "\"complete\" : false" "$W/three/manifest.json"'
sleep 2 # the master notices the dead driver and frees the worker's cores
submit "$W/three" 2> "$W/logs/submit-rerun.log" | tee "$W/three.out"
KEPT=$(sed -n 's/.* \([0-9]*\) kept.*/\1/p' "$W/three.out")
RUN=$(sed -n 's/.*this run \([0-9]*\) shards.*/\1/p' "$W/three.out")
echo "spark-standalone: re-run computed $RUN shards and kept $KEPT"
check "the re-run kept the finished shards and computed only the rest" '[ "$KEPT" -ge 3 ] && [ $((KEPT + RUN)) = 24 ]'
check "the re-run store equals the single-machine store byte for byte" 'same "$W/one" "$W/three"'

echo "spark-standalone: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ] && rm -rf "$W"
[ "$FAIL" = 0 ]
