/**
 * The log format of twopc's programs: {@link dev.twopc.telemetry.logging.TwopcLayout}, a logback
 * layout that writes a text line or, with {@code TWOPC_LOG_FORMAT=json}, one JSON object per line
 * with the message's {@code key=value} pairs as fields. Needs logback-classic, which the programs
 * bring; libraries that only log through SLF4J never load it.
 */
package dev.twopc.telemetry.logging;
