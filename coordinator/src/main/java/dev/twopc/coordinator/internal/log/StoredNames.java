package dev.twopc.coordinator.internal.log;

/**
 * States, votes and decisions as the stores keep them: by their enum name. A name a store cannot
 * read back (a newer version's, or damage) is a {@link LogStoreException}, not a guess.
 */
public final class StoredNames {
  private StoredNames() {}

  /** The stored form of {@code value}; null stays null. */
  public static String name(Enum<?> value) {
    return value == null ? null : value.name();
  }

  /** The value stored as {@code name}; null stays null. */
  public static <E extends Enum<E>> E parse(Class<E> type, String name) {
    if (name == null) {
      return null;
    }
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new LogStoreException(
          "the decision log holds an unknown " + type.getSimpleName() + " '" + name + "'", e);
    }
  }
}
