package dev.twopc.coordinator.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/** Runs {@code twopc} in-process, capturing exit code, stdout and stderr. */
final class Cli {
  private Cli() {}

  record Result(int exitCode, String out, String err) {
    List<String> outLines() {
      return out.isEmpty() ? List.of() : Arrays.asList(out.split("\\R"));
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- out ---\n" + out + "--- err ---\n" + err;
    }
  }

  static Result run(String... args) {
    return run(new CommandLine(new TwopcCommand()), args);
  }

  /** As {@code main} runs it (one-line usage errors). */
  static Result runAsMain(String... args) {
    return run(TwopcCommand.commandLine(new TwopcCommand()), args);
  }

  static Result run(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /** {@code args} followed by {@code --coordinator target --timeout 5s}. */
  static Result against(String target, String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.add("--coordinator");
    all.add(target);
    all.add("--timeout");
    all.add("5s");
    return run(all.toArray(new String[0]));
  }
}
