package dev.twopc.client.internal;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Several coordinator nodes on one shared log, any of which answers any call: a call goes to the
 * node that answered last, and on UNAVAILABLE (the node is down or unreachable) to each other node
 * once, in order. Only calls that are safe to repeat go through here: the server applies them
 * idempotently (Commit, Rollback, Enlist, the queries, registration) or they carry an idempotency
 * key (Begin, Execute). Not for application use; shared by the client and the participant SDK.
 */
public final class Failover {
  private final List<Channel> channels;
  private final AtomicInteger current = new AtomicInteger();

  public Failover(List<? extends Channel> channels) {
    if (channels.isEmpty()) {
      throw new IllegalArgumentException("no coordinator address");
    }
    this.channels = List.copyOf(channels);
  }

  /**
   * The addresses in a target of several, comma-separated ({@code host1:7000,host2:7000}); one
   * target (a DNS name may also resolve to several addresses: gRPC then picks among them) is a list
   * of one.
   */
  public static List<String> split(String targets) {
    Objects.requireNonNull(targets, "target");
    List<String> list = new ArrayList<>();
    for (String t : targets.split(",", -1)) {
      String s = t.strip();
      if (s.isEmpty()) {
        throw new IllegalArgumentException(
            "empty address in coordinator target \"" + targets + "\"");
      }
      list.add(s);
    }
    return List.copyOf(list);
  }

  public int size() {
    return channels.size();
  }

  /**
   * Runs {@code call} on the node that answered last, moving on to the next node for as long as the
   * answer is UNAVAILABLE; rethrows the last UNAVAILABLE once every node gave it.
   */
  public <T> T call(Function<Channel, T> call) {
    int start = current.get();
    StatusRuntimeException last = null;
    for (int i = 0; i < channels.size(); i++) {
      int index = (start + i) % channels.size();
      try {
        T result = call.apply(channels.get(index));
        current.set(index);
        return result;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          current.set(index); // it answered: a refusal is the answer
          throw e;
        }
        last = e;
      }
    }
    throw last;
  }
}
