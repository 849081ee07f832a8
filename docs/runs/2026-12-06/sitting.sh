#!/bin/bash
cd /work/main
run() { # name args...
  local name=$1; shift
  echo "$(date +%T) start $name" >> /tmp/sit/progress
  bin/twopc bench --branches 2 --concurrency 64 --durability fsync --warmup 45s --duration 20s --json "$@" > /tmp/sit/$name.json 2> /tmp/sit/$name.err
  echo "$(date +%T) end $name rc=$?" >> /tmp/sit/progress
}
for i in 1 2 3; do
  run A-stream-$i --participant memory
  run A-unary-$i --participant memory --participant-calls unary
  run B-stream-$i --participant sdk --wait-for-completion
  run B-unary-$i --participant sdk --wait-for-completion --participant-calls unary
done
for i in 1 2 3; do
  run C-stream-$i --participant memory --wait-for-completion
  run D-stream-$i --participant sdk
done
echo ALLDONE >> /tmp/sit/progress
