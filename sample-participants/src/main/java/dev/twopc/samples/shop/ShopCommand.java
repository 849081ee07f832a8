package dev.twopc.samples.shop;

import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.samples.Catalog;
import dev.twopc.security.TlsFiles;
import dev.twopc.security.TlsFlags;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code twopc-sample shop}: places a stream of orders and prints what the coordinator said. */
@Command(
    name = "shop",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Place orders: each one transaction over inventory, payments and orders.",
      "Every flag has an environment twin, shown in brackets."
    })
public final class ShopCommand implements Callable<Integer> {
  @Option(
      names = "--coordinator",
      paramLabel = "HOST:PORT",
      defaultValue = "${TWOPC_COORDINATOR:-localhost:7000}",
      description = "The coordinator [TWOPC_COORDINATOR] (default ${DEFAULT-VALUE}).")
  String coordinator;

  @Option(
      names = "--orders",
      paramLabel = "N",
      defaultValue = "${TWOPC_SHOP_ORDERS:-100}",
      description = "How many orders [TWOPC_SHOP_ORDERS] (default ${DEFAULT-VALUE}).")
  int orders;

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      defaultValue = "${TWOPC_SHOP_CONCURRENCY:-8}",
      description = "Orders in flight at once [TWOPC_SHOP_CONCURRENCY] (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--doomed",
      paramLabel = "SHARE",
      defaultValue = "${TWOPC_SHOP_DOOMED:-0.15}",
      description =
          "Share of orders built to fail: unknown SKU, out of stock or insufficient"
              + " funds [TWOPC_SHOP_DOOMED] (default ${DEFAULT-VALUE}).")
  double doomed;

  @Option(
      names = "--random-seed",
      paramLabel = "N",
      defaultValue = "${TWOPC_SHOP_SEED:-42}",
      description = "Seed of the order generator [TWOPC_SHOP_SEED] (default ${DEFAULT-VALUE}).")
  long randomSeed;

  @Option(
      names = "--interactive",
      description =
          "Place each order through the interactive"
              + " flow (Begin, Enlist each service with the order as its work, Commit) instead of one"
              + " Execute.")
  boolean interactive;

  @Option(names = "--verbose", description = "Print every order and its outcome.")
  boolean verbose;

  @Mixin TlsFlags tls = new TlsFlags();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    if (orders < 1 || concurrency < 1 || doomed < 0 || doomed > 1) {
      System.err.println(
          "twopc-sample shop: --orders and --concurrency must be >= 1, --doomed"
              + " between 0 and 1");
      return 2;
    }
    String runId = Long.toString(System.currentTimeMillis(), 36);
    TlsFiles files = tls.files(spec, false);
    TransactionClient.Builder b =
        TransactionClient.builder().target(coordinator).commitTimeout(Duration.ofSeconds(15));
    if (files != null) {
      b.tls(files);
    }
    try (TransactionClient tx = b.build()) {
      ShopClient shop =
          new ShopClient(
              tx,
              Catalog.demo(),
              runId,
              randomSeed,
              interactive ? ShopClient.Flow.INTERACTIVE : ShopClient.Flow.EXECUTE);
      long start = System.nanoTime();
      List<ShopClient.Placed> placed =
          shop.place(
              shop.orders(orders, doomed),
              concurrency,
              (p, n) -> {
                if (verbose) {
                  System.out.println(line(p));
                }
              });
      double secs = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "placed %d orders in %.1f s (%.0f/s): %s%n",
          placed.size(), secs, placed.size() / secs, Tally.of(placed).describe());
      return placed.stream().allMatch(p -> p.outcome() != TransactionOutcome.UNKNOWN) ? 0 : 1;
    }
  }

  static String line(ShopClient.Placed p) {
    return p.order().id()
        + " "
        + p.outcome()
        + " tx="
        + (p.result().txId().isEmpty() ? "-" : p.result().txId())
        + (p.result().reason().isEmpty() ? "" : " reason=\"" + p.result().reason() + "\"");
  }
}
