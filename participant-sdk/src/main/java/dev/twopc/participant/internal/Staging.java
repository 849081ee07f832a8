package dev.twopc.participant.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The interactive flow's in-memory side: which transactions this process enlisted in, and the work
 * business calls staged for them until Prepare. Lost on a crash by design: a Prepare with {@code
 * enlisted=true} for a transaction unknown here votes NO.
 */
public final class Staging {
  private static final class Work {
    final Instant since;
    final AtomicBoolean claimed = new AtomicBoolean();
    final CompletableFuture<Void> enlisted = new CompletableFuture<>();
    final List<byte[]> items = new ArrayList<>();
    boolean sealed;

    Work(Instant since) {
      this.since = since;
    }

    boolean ready() {
      return enlisted.isDone() && !enlisted.isCompletedExceptionally();
    }
  }

  private final ConcurrentHashMap<String, Work> work = new ConcurrentHashMap<>();

  /**
   * Runs {@code enlist} once per transaction (concurrent first calls wait for the one doing it). A
   * failed enlist is forgotten, so the next call tries again.
   */
  public void ensureEnlisted(String txId, Instant now, Runnable enlist) {
    Work w = work.computeIfAbsent(txId, t -> new Work(now));
    if (w.claimed.compareAndSet(false, true)) {
      try {
        enlist.run();
        w.enlisted.complete(null);
      } catch (RuntimeException e) {
        work.remove(txId, w);
        w.enlisted.completeExceptionally(e);
        throw e;
      }
      return;
    }
    try {
      w.enlisted.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new CompletionException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for enlist of tx=" + txId, e);
    }
  }

  public boolean isEnlisted(String txId) {
    Work w = work.get(txId);
    return w != null && w.ready();
  }

  public void stage(String txId, byte[] item) {
    Work w = work.get(txId);
    if (w == null || !w.ready()) {
      throw new IllegalStateException("tx=" + txId + " is not enlisted in this participant");
    }
    synchronized (w) {
      if (w.sealed) {
        throw new IllegalStateException("tx=" + txId + " is already preparing");
      }
      w.items.add(item.clone());
    }
  }

  /** Stops staging and returns the staged work; empty if this process never enlisted the tx. */
  public Optional<List<byte[]>> seal(String txId) {
    Work w = work.get(txId);
    if (w == null || !w.ready()) {
      return Optional.empty();
    }
    synchronized (w) {
      w.sealed = true;
      return Optional.of(List.copyOf(w.items));
    }
  }

  public void forget(String txId) {
    work.remove(txId);
  }

  /** Forgets transactions enlisted before {@code before} that never reached an outcome here. */
  public int pruneOlderThan(Instant before) {
    int[] n = {0};
    work.entrySet()
        .removeIf(
            e -> {
              boolean old = e.getValue().since.isBefore(before);
              if (old) {
                n[0]++;
              }
              return old;
            });
    return n[0];
  }
}
