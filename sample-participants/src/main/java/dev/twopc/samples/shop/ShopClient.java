package dev.twopc.samples.shop;

import dev.twopc.client.Transaction;
import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionException;
import dev.twopc.client.TransactionOptions;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.Order;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The shop: places orders, each one distributed transaction over inventory, payments and orders,
 * and records what the coordinator answered. Some orders are doomed on purpose. An order goes
 * either as one {@link TransactionClient#execute} with three branches carrying it ({@link
 * Flow#EXECUTE}) or through the interactive flow ({@link Flow#INTERACTIVE}): begin, enlist each
 * service with the order as its work, commit.
 *
 * <pre>{@code
 * try (TransactionClient tx = TransactionClient.builder().target("localhost:7000").build()) {
 *   ShopClient shop = new ShopClient(tx, Catalog.demo(), "run1", 42);
 *   List<ShopClient.Placed> placed = shop.place(shop.orders(200, 0.15), 8, (p, n) -> {});
 * }
 * }</pre>
 */
public final class ShopClient {
  /** How an order is placed. */
  public enum Flow {
    /** One Execute call with the three branches. */
    EXECUTE,
    /** Begin, an Enlist per service with the order as payload, Commit. */
    INTERACTIVE
  }

  /** How an order was built to fail, if it was. */
  public enum Doom {
    NONE,
    UNKNOWN_SKU,
    OUT_OF_STOCK,
    INSUFFICIENT_FUNDS
  }

  /** An order, how it was meant to end, and what the coordinator answered. */
  public record Planned(Order order, Doom doom) {}

  /**
   * An order placed.
   *
   * @param result COMMITTED, ABORTED (with the reason) or UNKNOWN (the call failed or timed out: it
   *     may have committed)
   */
  public record Placed(Order order, Doom doom, TransactionResult result) {
    public TransactionOutcome outcome() {
      return result.outcome() == TransactionOutcome.IN_PROGRESS
          ? TransactionOutcome.UNKNOWN
          : result.outcome();
    }
  }

  /** Told of each answer as it arrives; {@code answered} counts answers so far. */
  public interface Listener {
    void answered(Placed placed, int answered);
  }

  private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

  private static final List<String> SERVICES = List.of("inventory", "payments", "orders");

  private final TransactionClient client;
  private final Catalog catalog;
  private final String runId;
  private final Random random;
  private final Flow flow;
  private int numbered;

  /**
   * A shop placing orders with {@link Flow#EXECUTE}.
   *
   * @param runId part of every order id, so runs against the same services do not collide
   * @param seed of the order generator: the same seed gives the same orders
   */
  public ShopClient(TransactionClient client, Catalog catalog, String runId, long seed) {
    this(client, catalog, runId, seed, Flow.EXECUTE);
  }

  /** A shop placing its orders the way {@code flow} says. */
  public ShopClient(TransactionClient client, Catalog catalog, String runId, long seed, Flow flow) {
    this.client = Objects.requireNonNull(client, "client");
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.runId = Objects.requireNonNull(runId, "runId");
    this.random = new Random(seed);
    this.flow = Objects.requireNonNull(flow, "flow");
  }

  /**
   * {@code count} orders; about {@code doomedShare} of them doomed, evenly over the three ways.
   * Numbered on from the last call: ids never repeat within a client.
   */
  public synchronized List<Planned> orders(int count, double doomedShare) {
    List<Planned> out = new ArrayList<>();
    List<String> skus = catalog.skus();
    List<String> accounts = catalog.accounts();
    for (int i = 1; i <= count; i++) {
      Doom doom = Doom.NONE;
      if (random.nextDouble() < doomedShare) {
        doom = Doom.values()[1 + random.nextInt(3)];
      }
      List<Order.Line> lines = new ArrayList<>();
      int n = 1 + random.nextInt(2);
      for (int k = 0; k < n; k++) {
        lines.add(new Order.Line(skus.get(random.nextInt(skus.size())), 1 + random.nextInt(3)));
      }
      String account = accounts.get(random.nextInt(accounts.size()));
      switch (doom) {
        case UNKNOWN_SKU -> lines.add(new Order.Line(Catalog.UNKNOWN_SKU, 1));
        case OUT_OF_STOCK ->
            lines.set(
                0,
                new Order.Line(
                    lines.get(0).sku(), (int) (catalog.stock().get(lines.get(0).sku()) + 1)));
        case INSUFFICIENT_FUNDS -> account = Catalog.BROKE_ACCOUNT;
        case NONE -> {}
      }
      long amount = 0;
      for (Order.Line l : lines) {
        amount += catalog.price(l.sku()) * l.quantity();
      }
      out.add(
          new Planned(
              new Order(String.format("o-%s-%04d", runId, ++numbered), account, amount, lines),
              doom));
    }
    return out;
  }

  /**
   * Probe orders, none doomed: one unit of each SKU, the i-th SKU charged to the i-th funded
   * account (cycling), so that together they take every SKU's and every account's lock. After a run
   * they all commit only if no lock was left behind.
   */
  public synchronized List<Planned> probes() {
    List<String> skus = catalog.skus();
    List<String> accounts = catalog.accounts();
    List<Planned> out = new ArrayList<>();
    for (int i = 0; i < Math.max(skus.size(), accounts.size()); i++) {
      String sku = skus.get(i % skus.size());
      out.add(
          new Planned(
              new Order(
                  String.format("o-%s-probe-%02d", runId, ++numbered),
                  accounts.get(i % accounts.size()),
                  catalog.price(sku),
                  List.of(new Order.Line(sku, 1))),
              Doom.NONE));
    }
    return out;
  }

  /**
   * Places the orders from {@code concurrency} threads and returns what each got, in order. A
   * thread whose call gets no answer (coordinator down) or is aborted because a service could not
   * be reached backs off before its next order, up to a second, the way a client facing a failing
   * dependency should.
   */
  public List<Placed> place(List<Planned> orders, int concurrency, Listener listener)
      throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    return run(
        () -> {
          int i = next.getAndIncrement();
          return i < orders.size() ? orders.get(i) : null;
        },
        concurrency,
        listener);
  }

  /**
   * Places new orders (about {@code doomedShare} of them doomed) from {@code concurrency} threads
   * until {@code stop} says so, lets those in flight finish, and returns what each got in the order
   * they were placed. Backs off after an unanswered call like {@link #place}.
   */
  public List<Placed> placeUntil(
      BooleanSupplier stop, double doomedShare, int concurrency, Listener listener)
      throws InterruptedException {
    return run(
        () -> stop.getAsBoolean() ? null : orders(1, doomedShare).get(0), concurrency, listener);
  }

  /** {@code source} gives the next order to place, or null when there are no more. */
  private List<Placed> run(Supplier<Planned> source, int concurrency, Listener listener)
      throws InterruptedException {
    Map<Integer, Placed> results = new ConcurrentHashMap<>();
    AtomicInteger taken = new AtomicInteger();
    AtomicBoolean drained = new AtomicBoolean();
    AtomicInteger answered = new AtomicInteger();
    Object takeLock = new Object();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      for (int t = 0; t < concurrency; t++) {
        pool.execute(
            () -> {
              long backoffMs = 0;
              while (true) {
                Planned planned;
                int i;
                synchronized (takeLock) { // the n-th order taken is the n-th in the result
                  planned = source.get();
                  if (planned == null) {
                    drained.set(true);
                    return;
                  }
                  i = taken.getAndIncrement();
                }
                Placed p = placeOne(planned);
                results.put(i, p);
                listener.answered(p, answered.incrementAndGet());
                if (p.outcome() == TransactionOutcome.UNKNOWN
                    || (p.outcome() == TransactionOutcome.ABORTED
                        && Tally.kind(p.result().reason()).equals(Tally.UNREACHABLE))) {
                  backoffMs =
                      Math.min(MAX_BACKOFF.toMillis(), backoffMs == 0 ? 100 : backoffMs * 2);
                  try {
                    Thread.sleep(backoffMs);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                } else {
                  backoffMs = 0;
                }
              }
            });
      }
    } finally {
      pool.shutdown();
    }
    // The load runs as long as its source gives orders (a chaos run: as long as it is told);
    // once the source is drained, the orders in flight get 10 minutes to answer.
    while (!drained.get() && !pool.awaitTermination(1, TimeUnit.SECONDS)) {
      // still placing orders
    }
    if (!pool.awaitTermination(10, TimeUnit.MINUTES)) {
      pool.shutdownNow();
      throw new IllegalStateException("orders still running 10 minutes after the last was taken");
    }
    List<Placed> out = new ArrayList<>();
    for (int i = 0; i < taken.get(); i++) {
      out.add(results.get(i));
    }
    return out;
  }

  /** One order, one distributed transaction: the same order text goes to all three services. */
  public Placed placeOne(Planned planned) {
    Order order = planned.order();
    byte[] payload = order.encode();
    // The order id as idempotency key: a client that got UNKNOWN may ask again with it and get
    // the same transaction's outcome instead of placing the order twice.
    TransactionOptions options =
        TransactionOptions.defaults()
            .withIdempotencyKey(order.id())
            .withLabels(Map.of("order", order.id()))
            .withTimeout(Duration.ofSeconds(10));
    TransactionResult result =
        flow == Flow.EXECUTE ? execute(payload, options) : interactive(payload, options);
    return new Placed(order, planned.doom(), result);
  }

  private TransactionResult execute(byte[] payload, TransactionOptions options) {
    List<TransactionBranch> branches = new ArrayList<>();
    for (String service : SERVICES) {
      branches.add(new TransactionBranch(service, payload));
    }
    try {
      return client.execute(branches, options);
    } catch (TransactionException e) {
      // Refused for good (bad input, unknown participant): no transaction ran.
      return new TransactionResult("", TransactionOutcome.ABORTED, "refused: " + e.getMessage());
    }
  }

  /**
   * Begin, enlist each service with the order as its work, commit. An enlist that fails rolls the
   * transaction back; if even that gets no answer, the outcome is UNKNOWN (the coordinator aborts
   * it when it times out, and the audit finds out).
   */
  private TransactionResult interactive(byte[] payload, TransactionOptions options) {
    Transaction tx;
    try {
      tx = client.begin(options);
    } catch (TransactionException e) {
      return new TransactionResult(
          "",
          e.code() == TransactionException.Code.UNAVAILABLE
                  || e.code() == TransactionException.Code.DEADLINE_EXCEEDED
              ? TransactionOutcome.UNKNOWN
              : TransactionOutcome.ABORTED,
          "begin refused: " + e.getMessage());
    }
    try {
      for (String service : SERVICES) {
        client.enlist(tx.txId(), service, payload);
      }
    } catch (TransactionException e) {
      String why = "enlist refused: " + e.getMessage();
      try {
        return client.rollback(tx.txId(), why);
      } catch (TransactionException unanswered) {
        return new TransactionResult(
            tx.txId(), TransactionOutcome.UNKNOWN, why + "; rollback: " + unanswered.getMessage());
      }
    }
    return client.commit(tx.txId());
  }
}
