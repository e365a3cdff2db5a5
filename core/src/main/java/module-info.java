/**
 * smalloc4j: a lock-free off-heap allocator on the Foreign Function &amp; Memory API, and the
 * allocator contract ({@link org.smalloc4j.NativeAllocator}) it shares with the libc allocator.
 *
 * <p>Code using it needs native access: {@code --enable-native-access=org.smalloc4j} on the
 * module path, {@code --enable-native-access=ALL-UNNAMED} on the class path.
 */
module org.smalloc4j {
    exports org.smalloc4j;
}
