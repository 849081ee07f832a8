package dev.twopc.coordinator;

/**
 * {@link BoundedValuesTest} on a JDBC log (embedded H2), whose VARCHAR columns are where an
 * unbounded value used to fail the write.
 */
class BoundedValuesJdbcTest extends BoundedValuesTest {
  @Override
  CoordinatorConfig.Builder store(CoordinatorConfig.Builder b) {
    return b.jdbcUrl("jdbc:h2:file:" + dir.resolve("log").toAbsolutePath());
  }
}
