/** The bench's machinery: child processes, the load driver, the two workloads, the report. */
package dev.twopc.bench.internal;
