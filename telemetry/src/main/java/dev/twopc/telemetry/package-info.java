/** Metrics and tracing shared by the coordinator and the participant SDK. */
package dev.twopc.telemetry;
