package org.smalloc4j;

/** The contract on a {@link BumpArena} whose chunks and large blocks come from libc. */
class BumpArenaOnSystemContractTest extends BumpArenaContractTest {

    @Override
    protected NativeAllocator parent() {
        return new SystemAllocator();
    }
}
