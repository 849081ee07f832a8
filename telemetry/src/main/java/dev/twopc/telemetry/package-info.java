/**
 * What every twopc program shares: metrics and tracing (the coordinator and the participant SDK),
 * the log layout, and the one duration syntax of every command's flags ({@link
 * dev.twopc.telemetry.Durations}).
 */
package dev.twopc.telemetry;
