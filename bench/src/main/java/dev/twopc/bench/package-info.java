/**
 * {@code twopc bench}: measures full two-phase commit through the coordinator against a baseline
 * that makes the same participant calls with no coordinator and no log. See {@link
 * dev.twopc.bench.BenchCommand}.
 */
package dev.twopc.bench;
