package dev.twopc.coordinator.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The stores a test made, closed (dropped, deleted) after it: {@code @RegisterExtension final
 * TestStores stores = new TestStores();} then {@code stores.create(kind)} in a
 * {@code @ParameterizedTest @EnumSource(StoreKind.class)}. Registered as a field, its after-each
 * runs after the test's own {@code @AfterEach}, so coordinators the test closes there are gone
 * before their store is dropped.
 */
public final class TestStores implements AfterEachCallback {
  private final List<TestStore> stores = new ArrayList<>();

  public TestStore create(StoreKind kind) throws IOException {
    TestStore s = TestStore.create(kind);
    stores.add(s);
    return s;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    RuntimeException first = null;
    for (TestStore s : stores) {
      try {
        s.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    stores.clear();
    if (first != null) {
      throw first;
    }
  }
}
