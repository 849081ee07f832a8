#!/bin/bash
cd /work/main
run() { local name=$1; shift
  echo "$(date +%T) start $name" >> /tmp/sit/progress2
  bin/twopc bench --branches 2 --durability fsync --json --no-baseline "$@" > /tmp/sit/$name.json 2> /tmp/sit/$name.err
  echo "$(date +%T) end $name rc=$?" >> /tmp/sit/progress2; }
run E-sdk-open2000-1 --participant sdk --wait-for-completion --mode open --rate 2000 --warmup 45s --duration 20s
run E-sdk-open2000-2 --participant sdk --wait-for-completion --mode open --rate 2000 --warmup 45s --duration 20s
run E-mem-open10000-1 --participant memory --mode open --rate 10000 --warmup 45s --duration 20s
run F-mem-c1 --participant memory --concurrency 1 --warmup 30s --duration 15s
run F-mem-c1-wfc --participant memory --wait-for-completion --concurrency 1 --warmup 30s --duration 15s
run F-sdk-c1 --participant sdk --concurrency 1 --warmup 30s --duration 15s
run F-sdk-c1-wfc --participant sdk --wait-for-completion --concurrency 1 --warmup 30s --duration 15s
echo ALLDONE >> /tmp/sit/progress2
