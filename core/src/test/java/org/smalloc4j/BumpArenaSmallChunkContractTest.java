package org.smalloc4j;

/**
 * The contract on a {@link BumpArena} with 1 KiB chunks: most of the contract's blocks are then large
 * blocks of the parent, and chunks change often, so the table of large blocks and the chunk switch
 * get the contract's random sequences too.
 */
class BumpArenaSmallChunkContractTest extends BumpArenaContractTest {

    @Override
    protected long chunkBytes() {
        return 1024;
    }
}
