package dev.twopc.coordinator.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The {@code twopc coordinator} command line the CLI tests run: any port, loopback, fast. */
public final class CoordinatorArgs {
  private CoordinatorArgs() {}

  /** {@code coordinator --port 0 --host 127.0.0.1 --data DATA --durability process MORE...}. */
  public static List<String> local(Path data, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "coordinator",
                "--port",
                "0",
                "--host",
                "127.0.0.1",
                "--data",
                data.toString(),
                "--durability",
                "process"));
    args.addAll(List.of(more));
    return args;
  }
}
