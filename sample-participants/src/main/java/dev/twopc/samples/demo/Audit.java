package dev.twopc.samples.demo;

import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionException;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.Fields;
import dev.twopc.samples.Order;
import dev.twopc.samples.ReadClient;
import dev.twopc.samples.shop.ShopClient;
import dev.twopc.samples.shop.ShopClient.Doom;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Checks the outcome of a run from outside, through the services' read APIs and the operators'
 * calls (Participant.ListPrepared, Admin.ListTransactions): stock and money conserved, every order
 * all-or-nothing across the three services, what the client was told honoured, nothing left pending
 * or in doubt.
 */
public final class Audit {
  /** One audited property. */
  public record Check(String name, boolean ok, String detail) {
    @Override
    public String toString() {
      return String.format("  %-4s %-34s %s", ok ? "ok" : "FAIL", name, detail);
    }
  }

  /** Where a service is: its read API and its Participant service. */
  public record Service(String name, String apiUrl, String participantAddress) {}

  private final Catalog catalog;
  private final String coordinator;
  private final ChannelCredentials credentials;
  private final Map<String, Service> services = new LinkedHashMap<>();

  /**
   * {@code services}: inventory, payments and orders (by name); {@code credentials}: how the
   * operator calls reach them (an operator's certificate where TLS is on).
   */
  public Audit(
      Catalog catalog, String coordinator, List<Service> services, ChannelCredentials credentials) {
    this.catalog = catalog;
    this.coordinator = coordinator;
    this.credentials = credentials;
    for (Service s : services) {
      this.services.put(s.name(), s);
    }
  }

  private ReadClient api(String name) {
    return new ReadClient(services.get(name).apiUrl());
  }

  /**
   * Waits until nothing is pending or in doubt anywhere (phase 2 and recovery have finished), or
   * {@code timeout}. Returns whether it got there.
   */
  public boolean awaitQuiet(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (quiet()) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(200);
    }
  }

  /** Nothing pending in the services, no prepared branch, no transaction in doubt. */
  public boolean quiet() {
    try {
      return Fields.getLong(api("orders").one("/totals"), "pending") == 0
          && Fields.getLong(api("inventory").one("/totals"), "reserved") == 0
          && Fields.getLong(api("payments").one("/totals"), "held") == 0
          && inDoubtBranches().isEmpty()
          && inDoubtTransactions().isEmpty();
    } catch (RuntimeException e) {
      return false; // a service or the coordinator not answering yet is not quiet
    }
  }

  /** The prepared branches every participant still waits on, as "participant tx". */
  public List<String> inDoubtBranches() {
    List<String> out = new ArrayList<>();
    for (Service s : services.values()) {
      ManagedChannel ch = channel(s.participantAddress());
      try {
        for (PreparedBranch b :
            ParticipantGrpc.newBlockingStub(ch)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .listPrepared(ListPreparedRequest.getDefaultInstance())
                .getBranchesList()) {
          out.add(s.name() + " " + b.getTxId());
        }
      } finally {
        ch.shutdownNow();
      }
    }
    return out;
  }

  /** The coordinator's transactions in doubt. */
  public List<String> inDoubtTransactions() {
    ManagedChannel ch = channel(coordinator);
    try {
      return AdminGrpc.newBlockingStub(ch)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .listTransactions(
              ListTransactionsRequest.newBuilder().setInDoubt(true).setPageSize(1000).build())
          .getTransactionsList()
          .stream()
          .map(TransactionView::getTxId)
          .toList();
    } finally {
      ch.shutdownNow();
    }
  }

  /**
   * The coordinator's decision log and the services agree, for every order the orders service saw
   * (including those the client never heard back about): the transaction of a CONFIRMED order is
   * COMMITTED at the coordinator, that of a CANCELLED one ABORTED. This is what a client that got
   * UNKNOWN and asks again is told, so it must be the truth.
   */
  Check decisionsAgree(TransactionClient client) {
    int confirmed = 0;
    int cancelled = 0;
    List<String> bad = new ArrayList<>();
    for (Map<String, String> o : api("orders").get("/orders")) {
      String status = o.get("status");
      String tx = o.get("tx");
      TransactionOutcome want =
          switch (status) {
            case "CONFIRMED" -> TransactionOutcome.COMMITTED;
            case "CANCELLED" -> TransactionOutcome.ABORTED;
            default -> null; // PENDING: "nothing pending" reports it
          };
      if (want == null) {
        continue;
      }
      TransactionOutcome got;
      try {
        got = client.status(tx).outcome();
      } catch (TransactionException e) {
        // Presumed abort: no record of the transaction means it aborted.
        got =
            e.code() == TransactionException.Code.NOT_FOUND
                ? TransactionOutcome.ABORTED
                : TransactionOutcome.UNKNOWN;
      }
      if (got != want) {
        bad.add(o.get("order") + " " + status + " but tx " + tx + " " + got);
      } else if (want == TransactionOutcome.COMMITTED) {
        confirmed++;
      } else {
        cancelled++;
      }
    }
    return new Check(
        "coordinator agrees (GetTransaction)",
        bad.isEmpty(),
        bad.isEmpty()
            ? confirmed + " CONFIRMED = COMMITTED, " + cancelled + " CANCELLED = ABORTED"
            : bad.size() + " disagree: " + first(bad));
  }

  /** The operator's view agrees: {@code twopc tx list --in-doubt} exits 0 with nothing listed. */
  static Check cliInDoubtEmpty(Cluster.Cli inDoubt) {
    return new Check(
        "twopc tx list --in-doubt empty",
        inDoubt.exit() == 0 && inDoubt.output().contains("no transactions in doubt"),
        "exit " + inDoubt.exit() + ", " + inDoubt.output().trim().lines().findFirst().orElse(""));
  }

  /** With mutual TLS: the CLI with a client's certificate was refused an operator's call. */
  static Check clientRefusedAdmin(Cluster.Cli cli) {
    return new Check(
        "a client may not act as operator",
        cli.exit() == 6 && cli.output().contains("it needs the operator role"),
        "exit " + cli.exit() + ", " + cli.output().trim().lines().findFirst().orElse(""));
  }

  /**
   * The metrics agree: the coordinator's {@code twopc_in_doubt_transactions} and each service's
   * {@code twopc_branch_in_doubt} and {@code twopc_branch_prepared} are 0, read from their /metrics
   * (waiting up to {@code wait} for a gauge that is still coming down).
   */
  static Check metricsInDoubtZero(Map<String, java.net.URI> urls, Duration wait) {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    long until = System.nanoTime() + wait.toNanos();
    String detail = "";
    while (true) {
      List<String> seen = new ArrayList<>();
      boolean zero = true;
      for (var e : urls.entrySet()) {
        try {
          dev.twopc.telemetry.MetricsText m =
              dev.twopc.telemetry.MetricsText.fetch(http, e.getValue(), Duration.ofSeconds(5));
          double n =
              Cluster.isCoordinator(e.getKey())
                  ? m.sum("twopc_in_doubt_transactions")
                  : m.sum("twopc_branch_in_doubt") + m.sum("twopc_branch_prepared");
          zero &= n == 0;
          seen.add(e.getKey() + " " + (long) n);
        } catch (java.io.IOException ex) {
          zero = false;
          seen.add(e.getKey() + " unreadable (" + ex.getMessage() + ")");
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          return new Check("in-doubt gauges 0", false, "interrupted");
        }
      }
      detail = String.join(", ", seen);
      if (zero || System.nanoTime() > until) {
        return new Check("in-doubt gauges 0 (/metrics)", zero, detail);
      }
      try {
        Thread.sleep(200); // polling a remote gauge, not a test's wait
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return new Check("in-doubt gauges 0", false, "interrupted");
      }
    }
  }

  /** The coordinator's own liveness check found nothing stuck in any of its runs. */
  static Check livenessHeld(List<String> violations) {
    return new Check(
        "liveness invariant held",
        violations.isEmpty(),
        violations.isEmpty()
            ? "no event=liveness_violation in the coordinator's logs (checked every 2 s)"
            : violations.size()
                + " stuck transaction(s) repaired by the check, first: "
                + violations.get(0));
  }

  private ManagedChannel channel(String target) {
    return Grpc.newChannelBuilder(target, credentials).build();
  }

  /** Runs every check over the services' data and what the client was told. */
  public List<Check> run(List<ShopClient.Placed> placed) {
    List<Check> checks = new ArrayList<>();
    List<Map<String, String>> stock = api("inventory").get("/stock");
    List<Map<String, String>> reservations = api("inventory").get("/reservations");
    List<Map<String, String>> accounts = api("payments").get("/accounts");
    List<Map<String, String>> holds = api("payments").get("/holds");
    Map<String, Map<String, String>> orders =
        api("orders").get("/orders").stream()
            .collect(Collectors.toMap(o -> o.get("order"), o -> o));

    checks.add(
        conserved(
            "stock conserved", catalog.stock(), stock, "sku", "available", "reserved", "sold"));
    checks.add(
        conserved(
            "money conserved",
            catalog.balances(),
            accounts,
            "account",
            "balance",
            "held",
            "charged"));

    // Per order, what each service did with it: CONFIRMED / SOLD / CHARGED means applied.
    Map<String, String> orderState = new HashMap<>();
    orders.forEach((id, o) -> orderState.put(id, o.get("status")));
    Map<String, List<Map<String, String>>> resByOrder =
        reservations.stream().collect(Collectors.groupingBy(r -> r.get("order")));
    Map<String, List<Map<String, String>>> holdByOrder =
        holds.stream().collect(Collectors.groupingBy(h -> h.get("order")));

    int committedOk = 0;
    int abortedOk = 0;
    int unknownCommitted = 0;
    int unknownNot = 0;
    int doomedCommitted = 0;
    List<String> bad = new ArrayList<>();
    int committed = 0;
    int aborted = 0;
    int unknown = 0;
    for (ShopClient.Placed p : placed) {
      Order order = p.order();
      String applied =
          applied(
              order,
              orderState.get(order.id()),
              resByOrder.getOrDefault(order.id(), List.of()),
              holdByOrder.getOrDefault(order.id(), List.of()));
      TransactionOutcome told = p.outcome();
      if (told == TransactionOutcome.COMMITTED) {
        committed++;
        if (applied.equals("all")) {
          committedOk++;
        } else {
          bad.add(order.id() + " told COMMITTED but " + applied);
        }
      } else if (told == TransactionOutcome.ABORTED) {
        aborted++;
        if (applied.equals("none")) {
          abortedOk++;
        } else {
          bad.add(order.id() + " told ABORTED but " + applied);
        }
      } else {
        unknown++;
        switch (applied) {
          case "all" -> unknownCommitted++;
          case "none" -> unknownNot++;
          default -> bad.add(order.id() + " UNKNOWN and " + applied);
        }
      }
      if (p.doom() != Doom.NONE && !applied.equals("none")) {
        doomedCommitted++;
      }
    }
    checks.add(
        new Check(
            "told COMMITTED: applied in all 3",
            committedOk == committed,
            committedOk
                + "/"
                + committed
                + " CONFIRMED, stock sold, amount charged"
                + sample(bad, "COMMITTED")));
    checks.add(
        new Check(
            "told ABORTED: applied nowhere",
            abortedOk == aborted,
            abortedOk
                + "/"
                + aborted
                + " cancelled or absent, stock and money released"
                + sample(bad, "ABORTED")));
    checks.add(
        new Check(
            "UNKNOWN: all or nothing",
            unknownCommitted + unknownNot == unknown,
            unknown
                + " unknown -> "
                + unknownCommitted
                + " committed in all 3, "
                + unknownNot
                + " in none"
                + sample(bad, "UNKNOWN")));
    checks.add(
        new Check(
            "doomed orders never applied",
            doomedCommitted == 0,
            doomedCommitted + " doomed order(s) applied"));

    long pending =
        orders.values().stream().filter(o -> o.get("status").equals("PENDING")).count()
            + reservations.stream().filter(r -> r.get("state").equals("RESERVED")).count()
            + holds.stream().filter(h -> h.get("state").equals("HELD")).count();
    checks.add(
        new Check(
            "nothing pending",
            pending == 0,
            pending + " PENDING order(s), RESERVED stock or HELD funds"));
    checks.add(agree(orders, stock, accounts));

    List<String> branches = inDoubtBranches();
    checks.add(
        new Check(
            "no in-doubt branch (ListPrepared)",
            branches.isEmpty(),
            branches.isEmpty()
                ? "inventory, payments, orders: none prepared"
                : branches.size() + " still prepared: " + first(branches)));
    List<String> txs = inDoubtTransactions();
    checks.add(
        new Check(
            "no in-doubt transaction",
            txs.isEmpty(),
            txs.isEmpty() ? "coordinator: none" : txs.size() + " in doubt: " + first(txs)));
    return checks;
  }

  /** "all", "none", or what is wrong: an order must be applied by all three services or none. */
  private static String applied(
      Order order, String status, List<Map<String, String>> res, List<Map<String, String>> holds) {
    boolean confirmed = "CONFIRMED".equals(status);
    boolean sold =
        !res.isEmpty()
            && res.stream().allMatch(r -> r.get("state").equals("SOLD"))
            && res.size() == order.items().size();
    boolean anySold = res.stream().anyMatch(r -> r.get("state").equals("SOLD"));
    boolean charged =
        holds.size() == 1
            && holds.get(0).get("state").equals("CHARGED")
            && Long.parseLong(holds.get(0).get("amount")) == order.amount();
    boolean anyCharged = holds.stream().anyMatch(h -> h.get("state").equals("CHARGED"));
    if (confirmed && sold && charged) {
      return "all";
    }
    if (!confirmed && !anySold && !anyCharged && !"PENDING".equals(status)) {
      return "none";
    }
    return "partial (order "
        + status
        + ", stock "
        + (anySold ? "sold" : "not sold")
        + ", payment "
        + (anyCharged ? "charged" : "not charged")
        + ")";
  }

  /** initial = a + b + c for every key, with b (reserved or held) back to zero. */
  private static Check conserved(
      String name,
      Map<String, Long> initial,
      List<Map<String, String>> rows,
      String key,
      String free,
      String held,
      String done) {
    long sumInitial = 0;
    long sumFree = 0;
    long sumHeld = 0;
    long sumDone = 0;
    List<String> bad = new ArrayList<>();
    Map<String, Map<String, String>> byKey =
        rows.stream().collect(Collectors.toMap(r -> r.get(key), r -> r));
    for (Map.Entry<String, Long> e : initial.entrySet()) {
      Map<String, String> r = byKey.get(e.getKey());
      if (r == null) {
        bad.add(e.getKey() + " missing");
        continue;
      }
      long f = Long.parseLong(r.get(free));
      long h = Long.parseLong(r.get(held));
      long d = Long.parseLong(r.get(done));
      sumInitial += e.getValue();
      sumFree += f;
      sumHeld += h;
      sumDone += d;
      if (f + h + d != e.getValue() || h != 0) {
        bad.add(e.getKey() + ": " + e.getValue() + " != " + f + "+" + h + "+" + d);
      }
    }
    return new Check(
        name,
        bad.isEmpty() && byKey.size() == initial.size(),
        "initial "
            + sumInitial
            + " = "
            + free
            + " "
            + sumFree
            + " + "
            + done
            + " "
            + sumDone
            + " ("
            + held
            + " "
            + sumHeld
            + ")"
            + (bad.isEmpty() ? "" : "; " + first(bad)));
  }

  /**
   * The services agree with each other, for every order (including any the client never heard back
   * about): units sold per SKU and amounts charged per account are exactly those of the CONFIRMED
   * orders.
   */
  private static Check agree(
      Map<String, Map<String, String>> orders,
      List<Map<String, String>> stock,
      List<Map<String, String>> accounts) {
    Map<String, Long> soldBySku = new HashMap<>();
    Map<String, Long> chargedByAccount = new HashMap<>();
    for (Map<String, String> o : orders.values()) {
      if (!o.get("status").equals("CONFIRMED")) {
        continue;
      }
      chargedByAccount.merge(o.get("account"), Long.parseLong(o.get("amount")), Long::sum);
      for (String item : o.get("items").split(",")) {
        String[] si = item.split(":");
        soldBySku.merge(si[0], Long.parseLong(si[1]), Long::sum);
      }
    }
    List<String> bad = new ArrayList<>();
    for (Map<String, String> s : stock) {
      long want = soldBySku.getOrDefault(s.get("sku"), 0L);
      if (Long.parseLong(s.get("sold")) != want) {
        bad.add(s.get("sku") + " sold " + s.get("sold") + " but confirmed orders have " + want);
      }
    }
    for (Map<String, String> a : accounts) {
      long want = chargedByAccount.getOrDefault(a.get("account"), 0L);
      if (Long.parseLong(a.get("charged")) != want) {
        bad.add(
            a.get("account")
                + " charged "
                + a.get("charged")
                + " but confirmed orders have "
                + want);
      }
    }
    long confirmed =
        orders.values().stream().filter(o -> o.get("status").equals("CONFIRMED")).count();
    return new Check(
        "services agree",
        bad.isEmpty(),
        bad.isEmpty()
            ? "sold per SKU and charged per account = the " + confirmed + " CONFIRMED orders"
            : bad.size() + " mismatch(es): " + first(bad));
  }

  private static String sample(List<String> bad, String kind) {
    List<String> mine = bad.stream().filter(b -> b.contains(kind)).toList();
    return mine.isEmpty() ? "" : "; e.g. " + mine.get(0);
  }

  private static String first(List<String> items) {
    return items.size() <= 3
        ? String.join(", ", items)
        : String.join(", ", items.subList(0, 3)) + ", ...";
  }
}
