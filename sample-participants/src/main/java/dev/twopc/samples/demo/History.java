package dev.twopc.samples.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the chaos run did to each process: kills, restarts, how long each restart took to serve
 * again, and what recovery found. Thread-safe: the fault injector's threads record, the run reads
 * at the end.
 */
final class History {
  private static final Pattern RECOVERY =
      Pattern.compile(
          "recovery: resumed (\\d+) commit\\(s\\), resumed (\\d+) abort\\(s\\), aborted (\\d+)"
              + " undecided");

  /** One process's record. */
  static final class Stats {
    int kills;
    int restarts;

    /** From the restart (exec of the new JVM) to its ready or recovery line. */
    final List<Duration> restartToReady = new ArrayList<>();

    /** From the kill to the restarted process serving: the whole outage. */
    final List<Duration> killToReady = new ArrayList<>();

    /** Participants: prepared branches restored at start; coordinator: recovery's counts. */
    long restored;

    long resumedCommits;
    long resumedAborts;
    long abortedUndecided;
  }

  private final Map<String, Stats> byProcess = new LinkedHashMap<>();
  private final List<String> events = new ArrayList<>();

  History(List<String> processes) {
    processes.forEach(p -> byProcess.put(p, new Stats()));
  }

  /** An event line, stamped with the clock time the process logs use. */
  synchronized void note(String event) {
    events.add(event);
  }

  synchronized List<String> events() {
    return List.copyOf(events);
  }

  synchronized void killed(String process) {
    byProcess.get(process).kills++;
  }

  /**
   * A restart that served again. {@code readyLine} is the coordinator's recovery line (its counts
   * are added up); {@code restoredBranches} the prepared branches a participant restored.
   */
  synchronized void restarted(
      String process,
      Duration restartToReady,
      Duration killToReady,
      String readyLine,
      int restoredBranches) {
    Stats s = byProcess.get(process);
    s.restarts++;
    s.restartToReady.add(restartToReady);
    s.killToReady.add(killToReady);
    s.restored += restoredBranches;
    Matcher m = RECOVERY.matcher(readyLine);
    if (m.find()) {
      s.resumedCommits += Long.parseLong(m.group(1));
      s.resumedAborts += Long.parseLong(m.group(2));
      s.abortedUndecided += Long.parseLong(m.group(3));
    }
  }

  synchronized int kills() {
    return byProcess.values().stream().mapToInt(s -> s.kills).sum();
  }

  synchronized int kills(String process) {
    return byProcess.get(process).kills;
  }

  synchronized int restarts() {
    return byProcess.values().stream().mapToInt(s -> s.restarts).sum();
  }

  /** The table: one row per process and a total. */
  synchronized String table() {
    StringBuilder sb =
        new StringBuilder(
            String.format(
                "  %-12s %5s %8s  %-28s  %-21s  %s%n",
                "process",
                "kills",
                "restarts",
                "restart->serving min/med/max",
                "kill->serving med/max",
                "recovery found"));
    List<Duration> allReady = new ArrayList<>();
    List<Duration> allOutage = new ArrayList<>();
    byProcess.forEach(
        (name, s) -> {
          allReady.addAll(s.restartToReady);
          allOutage.addAll(s.killToReady);
          String found =
              Cluster.isCoordinator(name)
                  ? "resumed "
                      + s.resumedCommits
                      + " commit(s), "
                      + s.resumedAborts
                      + " abort(s); aborted "
                      + s.abortedUndecided
                      + " undecided"
                  : s.restored + " prepared branch(es) restored";
          sb.append(
              String.format(
                  "  %-12s %5d %8d  %-28s  %-21s  %s%n",
                  name,
                  s.kills,
                  s.restarts,
                  minMedMax(s.restartToReady),
                  medMax(s.killToReady),
                  s.restarts == 0 ? "-" : found));
        });
    sb.append(
        String.format(
            "  %-12s %5d %8d  %-28s  %-21s%n",
            "all", kills(), restarts(), minMedMax(allReady), medMax(allOutage)));
    return sb.toString();
  }

  private static String minMedMax(List<Duration> ds) {
    if (ds.isEmpty()) {
      return "-";
    }
    List<Duration> s = ds.stream().sorted().toList();
    return secs(s.get(0))
        + " / "
        + secs(s.get(s.size() / 2))
        + " / "
        + secs(s.get(s.size() - 1))
        + " s";
  }

  private static String medMax(List<Duration> ds) {
    if (ds.isEmpty()) {
      return "-";
    }
    List<Duration> s = ds.stream().sorted().toList();
    return secs(s.get(s.size() / 2)) + " / " + secs(s.get(s.size() - 1)) + " s";
  }

  static String secs(Duration d) {
    return String.format(Locale.ROOT, "%.1f", d.toNanos() / 1e9);
  }
}
