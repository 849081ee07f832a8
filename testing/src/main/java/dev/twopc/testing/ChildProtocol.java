package dev.twopc.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The lines a crash-torture child prints on standard output besides its own records: {@code
 * OPENING} (it starts opening its store), {@code READY <millis>} (open, and how long that took) and
 * {@code E <text>} (an error it survived). Feed it every line with {@link #accept}; the torture
 * waits on {@link #opening} and {@link #ready} to time its kills.
 */
public final class ChildProtocol {
  public final CompletableFuture<Void> opening = new CompletableFuture<>();
  public final CompletableFuture<Long> ready = new CompletableFuture<>();
  public final List<String> errors = Collections.synchronizedList(new ArrayList<>());

  /** Takes {@code line} if it is one of these; false if it is the child's own. */
  public boolean accept(String line) {
    if (line.equals("OPENING")) {
      opening.complete(null);
    } else if (line.startsWith("READY ")) {
      ready.complete(Long.parseLong(line.split(" ", -1)[1]));
    } else if (line.startsWith("E ")) {
      errors.add(line);
    } else {
      return false;
    }
    return true;
  }

  /** The child is gone: whoever still waits for it to open or be ready fails with {@code why}. */
  public void gone(String why) {
    IllegalStateException e = new IllegalStateException(why);
    opening.completeExceptionally(e);
    ready.completeExceptionally(e);
  }

  /**
   * What the child survived, as a failure message ("N {@code what} failed, first: …"), or null if
   * it reported no error.
   */
  public String survivedErrors(String what) {
    synchronized (errors) {
      return errors.isEmpty()
          ? null
          : errors.size() + " " + what + " failed, first: " + errors.get(0);
    }
  }

  /**
   * The child's side: halts this JVM (exit 4) when the parent closes its standard input (it died or
   * is done), and (exit 5) after {@code cap} anyway, so that no torture child outlives its test.
   */
  public static void haltWithParent(Duration cap) {
    Thread watch =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // the parent sends nothing; end of input is its going away
                }
              } catch (IOException gone) {
                // the same
              }
              Runtime.getRuntime().halt(4);
            },
            "child-parent-watch");
    watch.setDaemon(true);
    watch.start();
    ScheduledExecutorService capped =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "child-cap");
              t.setDaemon(true);
              return t;
            });
    // never read: it only has to fire if the parent forgets this process
    Object unused =
        capped.schedule(() -> Runtime.getRuntime().halt(5), cap.toMillis(), TimeUnit.MILLISECONDS);
  }
}
