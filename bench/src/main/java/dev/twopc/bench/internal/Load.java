package dev.twopc.bench.internal;

import java.time.Duration;

/**
 * The shape of the load, the same for every phase of a run.
 *
 * @param open open loop ({@code rate} transactions per second at fixed intervals, latency from the
 *     intended start) or closed loop ({@code concurrency} transactions always in flight)
 * @param maxInFlight open loop only: a transaction due while this many are in flight is not sent
 *     and counted as not sent (so an overloaded system cannot exhaust the bench's memory)
 * @param rpcTimeout the deadline of each call the bench makes
 */
public record Load(
    boolean open,
    int concurrency,
    double rate,
    Duration warmup,
    Duration duration,
    int maxInFlight,
    Duration rpcTimeout) {}
