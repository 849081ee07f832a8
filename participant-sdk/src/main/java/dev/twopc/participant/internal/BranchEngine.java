package dev.twopc.participant.internal;

import dev.twopc.participant.LockUnavailableException;
import dev.twopc.participant.ParticipantHandler;
import dev.twopc.participant.ParticipantListener;
import dev.twopc.participant.PreparedBranchInfo;
import dev.twopc.participant.Vote;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The participant side of the protocol: prepare, commit, rollback and one-phase commit of branches,
 * made idempotent by the durable pending map and finished table, with the locks' lifetime tied to
 * the branch's. Work on one transaction id is serialized.
 */
public final class BranchEngine {
  private static final Logger log = LoggerFactory.getLogger(BranchEngine.class);

  /** The answer to a one-phase commit. */
  public record OnePhaseResult(boolean committed, String reason) {}

  private final String name;
  private final ParticipantHandler handler;
  private final BranchStore store;
  private final LockManager locks;
  private final Staging staging;
  private final Clock clock;
  private final Duration lockWait;
  private final Duration defaultPrepareTimeout;
  private final Duration inDoubtAfter;
  private final ParticipantListener listener;
  private final String defaultCoordinator;
  private final TxMutex mutex = new TxMutex();
  private final Map<String, PendingBranch> prepared = new ConcurrentHashMap<>();

  public BranchEngine(
      String name,
      ParticipantHandler handler,
      BranchStore store,
      LockManager locks,
      Staging staging,
      Clock clock,
      Duration lockWait,
      Duration defaultPrepareTimeout,
      Duration inDoubtAfter,
      ParticipantListener listener,
      String defaultCoordinator) {
    this.name = name;
    this.handler = handler;
    this.store = store;
    this.locks = locks;
    this.staging = staging;
    this.clock = clock;
    this.lockWait = lockWait;
    this.defaultPrepareTimeout = defaultPrepareTimeout;
    this.inDoubtAfter = inDoubtAfter;
    this.listener = listener;
    this.defaultCoordinator = defaultCoordinator;
  }

  public String name() {
    return name;
  }

  public LockManager locks() {
    return locks;
  }

  /**
   * Reloads the pending map and re-takes its locks. Runs before the server accepts calls, so no new
   * prepare can grab a key a recovered branch holds.
   */
  public List<PreparedBranchInfo> recover() {
    Instant now = clock.instant();
    for (PreparedRecord r : store.loadPrepared()) {
      r.locks()
          .forEach(
              (key, mode) -> {
                if (!locks.restore(r.txId(), key, mode)) {
                  log.error(
                      "event=recovered_lock_conflict participant={} tx={} key={} holders=\"{}\"",
                      name,
                      r.txId(),
                      key,
                      locks.holders(key));
                }
              });
      // Recovered branches are in doubt now: the outcome may have been decided while we were down.
      prepared.put(r.txId(), new PendingBranch(r, now, false));
      log.info(
          "event=branch_recovered participant={} tx={} locks=\"{}\" prepared_at={}",
          name,
          r.txId(),
          r.locks().keySet(),
          r.preparedAt());
    }
    List<PreparedBranchInfo> out = listPrepared();
    safely(() -> listener.onRecovered(out));
    return out;
  }

  /**
   * Phase 1. Returns the vote; a duplicate returns the recorded vote. {@code enlisted}: the branch
   * joined through Enlist; {@code staged}: this participant enlisted itself, so its work must be
   * staged here (and the vote is NO if it is not: lost in a restart).
   */
  public Vote prepare(
      String txId,
      byte[] payload,
      Duration timeout,
      String coordinator,
      boolean enlisted,
      boolean staged) {
    Duration t =
        timeout == null || timeout.isZero() || timeout.isNegative()
            ? defaultPrepareTimeout
            : timeout;
    Instant deadline = clock.instant().plus(t);
    String coord = coordinator == null || coordinator.isEmpty() ? defaultCoordinator : coordinator;
    return mutex.with(
        txId,
        () -> {
          PendingBranch known = prepared.get(txId);
          if (known != null) {
            if (known.uncertain) {
              throw new BranchException(
                  BranchException.Kind.UNAVAILABLE,
                  "an earlier prepare of this branch could not be confirmed durable");
            }
            return Vote.yes();
          }
          boolean keepLocks = false;
          // The handler's lock waits must not hold a connection: see LazyConnection.
          try (LazyConnection lazy = new LazyConnection(store::begin)) {
            // Safety rule 5: a Prepare for a finished id (a late one after a rollback) gets the
            // recorded answer, never a new vote.
            Optional<Finished> done = store.finished(txId);
            if (done.isPresent()) {
              return recordedVote(done.get());
            }
            Connection c = lazy.connection();
            // A branch a client enlisted (or Execute began) carries its work as the payload; one
            // this participant enlisted itself also has work its business calls staged here.
            Optional<List<byte[]>> sealed = staging.seal(txId);
            if (staged && sealed.isEmpty()) {
              return refuse(
                  c,
                  txId,
                  Vote.no(
                      "the work business calls staged here for this"
                          + " transaction is gone (participant restarted before prepare?)"));
            }
            List<byte[]> work = sealed.orElse(List.of());
            Contexts.Prepare ctx =
                new Contexts.Prepare(
                    txId, name, payload, work, c, locks, deadline, lockWait, clock, enlisted);
            Vote vote = callPrepare(ctx);
            lazy.throwIfOpenFailed();
            if (!vote.isYes()) {
              rollbackQuietly(c, txId);
              return refuse(c, txId, vote);
            }
            PreparedRecord rec =
                new PreparedRecord(txId, payload, work, locks.heldBy(txId), coord, clock.instant());
            try {
              store.insertPrepared(c, rec);
              c.commit();
            } catch (SQLException | RuntimeException e) {
              // No connection could be had: nothing was written, so nothing can be in doubt.
              lazy.throwIfOpenFailed();
              rollbackQuietly(c, txId);
              // The commit may or may not have happened. Keep the locks and treat the branch as in
              // doubt: no YES is sent, so the coordinator aborts, and the resolver learns that and
              // rolls back whatever might have been recorded.
              prepared.put(txId, new PendingBranch(rec, clock.instant(), true));
              keepLocks = true;
              log.warn("event=prepare_not_recorded participant={} tx={}", name, txId, e);
              throw new BranchException(
                  BranchException.Kind.UNAVAILABLE,
                  "prepare could not be recorded: " + message(e),
                  e);
            }
            // Safety rule 4: the YES vote leaves only now, after the commit holding the staged
            // writes and the prepared record returned (durable: the embedded SQLite store fsyncs
            // its
            // WAL at commit, and start() refuses stores known to lose returned commits).
            prepared.put(txId, new PendingBranch(rec, rec.preparedAt().plus(inDoubtAfter), false));
            keepLocks = true;
            log.debug(
                "event=branch_prepared participant={} tx={} vote=YES locks=\"{}\"",
                name,
                txId,
                rec.locks().keySet());
            safely(() -> listener.onPrepared(txId));
            return Vote.yes();
          } catch (SQLException e) {
            log.warn("event=prepare_failed participant={} tx={} cause=store", name, txId, e);
            throw new BranchException(BranchException.Kind.UNAVAILABLE, storeFailure(e), e);
          } finally {
            if (!keepLocks) {
              locks.releaseAll(txId);
              staging.forget(txId);
            }
          }
        });
  }

  private Vote callPrepare(Contexts.Prepare ctx) {
    try {
      Vote v = handler.prepare(ctx);
      return v == null ? Vote.no("prepare handler returned no vote") : v;
    } catch (LockUnavailableException e) {
      return Vote.no(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Vote.no("prepare interrupted");
    } catch (Exception e) {
      log.warn(
          "event=prepare_failed participant={} tx={} cause=handler vote=NO", name, ctx.txId(), e);
      return Vote.no("prepare failed: " + message(e));
    } finally {
      ctx.close();
    }
  }

  /** Records a vote other than YES (its locks are released by the caller) and returns it. */
  private Vote refuse(Connection c, String txId, Vote vote) throws SQLException {
    Fate fate = vote.kind() == Vote.Kind.READ_ONLY ? Fate.READ_ONLY : Fate.VOTED_NO;
    store.insertFinished(c, txId, fate, vote.reason(), clock.instant());
    c.commit();
    log.debug("event=branch_prepared participant={} tx={} vote={}", name, txId, vote);
    return vote;
  }

  private static Vote recordedVote(Finished f) {
    return switch (f.fate()) {
      case VOTED_NO -> Vote.no(f.reason().isEmpty() ? "refused" : f.reason());
      case READ_ONLY -> Vote.readOnly();
      case COMMITTED -> Vote.yes();
      case ROLLED_BACK -> Vote.no("transaction already rolled back here");
    };
  }

  /** Phase 2, commit. Applies once; acknowledges every time. */
  public void commit(String txId) {
    mutex.with(
        txId,
        () -> {
          // Safety rule 5: a commit is applied once; a repeat is answered from the finished record.
          PendingBranch b = prepared.get(txId);
          if (b != null) {
            finish(b, true);
            return null;
          }
          Optional<Finished> done = store.finished(txId);
          if (done.isEmpty()) {
            // No prepared record and no finished one: this participant never voted YES for it, or
            // lost the record of its vote (a store restored from an old backup, a DataSource that
            // did not keep a commit), or pruned a finished record older than finishedRetention.
            // Acknowledging would tell the coordinator the work is applied when it may not be: a
            // silent atomicity violation. Refuse; the coordinator keeps the branch COMMITTING and
            // shows it in doubt, for an operator who knows which case it is.
            log.error(
                "event=commit_unknown_branch participant={} tx={} detail=\"no prepared or"
                    + " finished record here; refused, the branch stays in doubt at the coordinator\"",
                name,
                txId);
            throw new BranchException(
                BranchException.Kind.FAILED_PRECONDITION,
                "no record of this branch at "
                    + name
                    + " (never prepared here, its prepared record"
                    + " was lost, or its finished record was pruned): commit refused, resolve it by"
                    + " hand");
          }
          Fate fate = done.get().fate();
          if (fate == Fate.VOTED_NO || fate == Fate.ROLLED_BACK) {
            throw new BranchException(
                BranchException.Kind.FAILED_PRECONDITION, "branch was not prepared here: " + fate);
          }
          return null;
        });
  }

  /** Phase 2, rollback. Applies once; acknowledges every time, also for unknown branches. */
  public void rollback(String txId) {
    rollback(txId, false);
  }

  /**
   * The coordinator lost the answer of a one-phase commit (it restarted): true if the branch
   * committed here; otherwise it is rolled back (or, if the commit never arrived, remembered as
   * rolled back so that a late one is refused) and the answer is false.
   */
  public boolean committedElseRollback(String txId) {
    return rollback(txId, true);
  }

  private boolean rollback(String txId, boolean answerCommitted) {
    return mutex.with(
        txId,
        () -> {
          PendingBranch b = prepared.get(txId);
          if (b != null) {
            finish(b, false);
            return false;
          }
          Optional<Finished> done = store.finished(txId);
          if (done.isPresent()) {
            if (done.get().fate() == Fate.COMMITTED) {
              if (answerCommitted) {
                return true;
              }
              throw new BranchException(
                  BranchException.Kind.FAILED_PRECONDITION, "branch already committed here");
            }
            return false;
          }
          // Remember the id so that a Prepare arriving late (after this Rollback) votes NO.
          staging.forget(txId);
          store.recordFinished(
              txId, Fate.ROLLED_BACK, "rolled back before prepare", clock.instant());
          log.debug("event=branch_rolled_back participant={} tx={} prepared=false", name, txId);
          safely(() -> listener.onRolledBack(txId));
          return false;
        });
  }

  private void finish(PendingBranch b, boolean commit) {
    String txId = b.record.txId();
    Fate fate = commit ? Fate.COMMITTED : Fate.ROLLED_BACK;
    try (Connection c = store.begin()) {
      try {
        // Delete first: if an earlier attempt already finished the branch (its commit returned an
        // error but happened), the row is gone and the handler must not run twice.
        if (store.deletePrepared(c, txId)) {
          Contexts.Branch ctx =
              new Contexts.Branch(txId, name, b.record.payload(), b.record.staged(), c, locks);
          if (commit) {
            handler.commit(ctx);
          } else {
            handler.rollback(ctx);
          }
          store.insertFinished(c, txId, fate, "", clock.instant());
        } else if (store.finished(c, txId).isEmpty()) {
          store.insertFinished(c, txId, fate, "", clock.instant());
        }
        c.commit();
      } catch (Exception e) {
        rollbackQuietly(c, txId);
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        b.lastError = (commit ? "commit failed: " : "rollback failed: ") + message(e);
        if (commit) {
          log.warn(
              "event=commit_failed participant={} tx={} phase=commit cause=handler"
                  + " branch=stays_prepared",
              name,
              txId,
              e);
        } else {
          log.warn(
              "event=rollback_failed participant={} tx={} phase=rollback cause=handler"
                  + " branch=stays_prepared",
              name,
              txId,
              e);
        }
        throw new BranchException(BranchException.Kind.UNAVAILABLE, b.lastError, e);
      }
    } catch (SQLException e) {
      b.lastError = storeFailure(e);
      if (commit) {
        log.warn(
            "event=commit_failed participant={} tx={} phase=commit cause=store"
                + " branch=stays_prepared",
            name,
            txId,
            e);
      } else {
        log.warn(
            "event=rollback_failed participant={} tx={} phase=rollback cause=store"
                + " branch=stays_prepared",
            name,
            txId,
            e);
      }
      throw new BranchException(BranchException.Kind.UNAVAILABLE, b.lastError, e);
    }
    prepared.remove(txId);
    locks.releaseAll(txId);
    staging.forget(txId);
    if (commit) {
      log.debug("event=branch_committed participant={} tx={}", name, txId);
    } else {
      log.debug("event=branch_rolled_back participant={} tx={} prepared=true", name, txId);
    }
    safely(
        () -> {
          if (commit) {
            listener.onCommitted(txId);
          } else {
            listener.onRolledBack(txId);
          }
        });
  }

  /** A single-branch transaction: prepare and commit in one local transaction. */
  public OnePhaseResult commitOnePhase(String txId, byte[] payload, Duration timeout) {
    Duration t =
        timeout == null || timeout.isZero() || timeout.isNegative()
            ? defaultPrepareTimeout
            : timeout;
    Instant deadline = clock.instant().plus(t);
    return mutex.with(
        txId,
        () -> {
          PendingBranch b = prepared.get(txId);
          if (b != null) {
            finish(b, true);
            return new OnePhaseResult(true, "");
          }
          Optional<Finished> done = store.finished(txId);
          if (done.isPresent()) {
            return switch (done.get().fate()) {
              case COMMITTED, READ_ONLY -> new OnePhaseResult(true, "");
              case VOTED_NO -> new OnePhaseResult(false, done.get().reason());
              case ROLLED_BACK -> new OnePhaseResult(false, "transaction already rolled back here");
            };
          }
          List<byte[]> staged = staging.seal(txId).orElse(List.of());
          try (LazyConnection lazy = new LazyConnection(store::begin)) {
            Connection c = lazy.connection();
            Contexts.Prepare ctx =
                new Contexts.Prepare(
                    txId, name, payload, staged, c, locks, deadline, lockWait, clock, false);
            Vote vote = callPrepare(ctx);
            lazy.throwIfOpenFailed();
            String reason = vote.reason();
            Fate fate = Fate.VOTED_NO;
            if (vote.isYes()) {
              try {
                handler.commit(ctx);
                fate = Fate.COMMITTED;
              } catch (Exception e) {
                if (e instanceof InterruptedException) {
                  Thread.currentThread().interrupt();
                }
                log.warn(
                    "event=one_phase_failed participant={} tx={} cause=handler", name, txId, e);
                reason = "commit failed: " + message(e);
              }
            } else if (vote.kind() == Vote.Kind.READ_ONLY) {
              fate = Fate.READ_ONLY;
            }
            lazy.throwIfOpenFailed();
            if (fate != Fate.COMMITTED) {
              rollbackQuietly(c, txId);
            }
            store.insertFinished(c, txId, fate, reason, clock.instant());
            c.commit();
            boolean committed = fate != Fate.VOTED_NO;
            log.debug(
                "event=one_phase_done participant={} tx={} outcome={} reason=\"{}\"",
                name,
                txId,
                committed ? "COMMITTED" : "ABORTED",
                committed ? "" : reason);
            safely(
                () -> {
                  if (committed) {
                    listener.onCommitted(txId);
                  } else {
                    listener.onRolledBack(txId);
                  }
                });
            return new OnePhaseResult(committed, committed ? "" : reason);
          } catch (SQLException e) {
            log.warn("event=one_phase_failed participant={} tx={} cause=store", name, txId, e);
            throw new BranchException(BranchException.Kind.UNAVAILABLE, storeFailure(e), e);
          } finally {
            locks.releaseAll(txId);
            staging.forget(txId);
          }
        });
  }

  /** In-doubt branches, oldest first. */
  public List<PreparedBranchInfo> listPrepared() {
    Instant now = clock.instant();
    List<PreparedBranchInfo> out = new ArrayList<>();
    for (PendingBranch b : prepared.values()) {
      PreparedRecord r = b.record;
      Duration age = Duration.between(r.preparedAt(), now);
      out.add(
          new PreparedBranchInfo(
              r.txId(),
              name,
              r.preparedAt(),
              age.isNegative() ? Duration.ZERO : age,
              List.copyOf(r.locks().keySet()),
              r.coordinator(),
              b.outcomeQueries.get(),
              b.lastError));
    }
    out.sort(Comparator.comparing(PreparedBranchInfo::preparedAt));
    return out;
  }

  /** The in-memory pending branches, for the resolver. */
  List<PendingBranch> pending() {
    return new ArrayList<>(prepared.values());
  }

  public boolean isPrepared(String txId) {
    return prepared.containsKey(txId);
  }

  private void rollbackQuietly(Connection c, String txId) {
    try {
      c.rollback();
    } catch (SQLException e) {
      log.warn("event=local_rollback_failed participant={} tx={}", name, txId, e);
    }
  }

  private void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("event=listener_failed participant={}", name, e);
    }
  }

  /**
   * A handler's failure as the coordinator and its operators are told it: the first line of its
   * message, at most 200 characters; a JDBC failure only by its SQLState (its text may quote SQL
   * and data), the whole of it being in this participant's log.
   */
  static String message(Throwable e) {
    if (e instanceof SQLException sql) {
      return storeFailure(sql);
    }
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return "unexplained failure";
    }
    String line = m.strip().lines().findFirst().orElse("");
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }

  /** A store failure as callers see it: its SQLState; the rest is in the log. */
  static String storeFailure(SQLException e) {
    String state = e.getSQLState();
    return "participant store unavailable (SQLState "
        + (state == null || state.isBlank() ? "none" : state)
        + "; see the participant's log)";
  }
}
