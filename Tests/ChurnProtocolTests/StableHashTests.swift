import ChurnProtocol
import Testing

/// Experiment arms, campaign groups and score shards must land the same on every host, in every
/// release: the hash is pinned to values computed independently (Python, from the published
/// FNV-1a and splitmix64 constants).
@Suite("Stable hash")
struct StableHashTests {
    @Test func valuesArePinned() {
        #expect(StableHash.fnv1a("") == 14_695_981_039_346_656_037)
        #expect(StableHash.fnv1a("a") == 12_638_187_200_555_641_996)
        #expect(StableHash.mixed("7:7590-VHVEG") == 18_298_749_702_118_186_960)
        #expect(StableHash.mixed("SYN-0000001") == 14_782_241_865_134_490_866)
        #expect(abs(StableHash.fraction("7:7590-VHVEG") - 0.9919772090402507) < 1e-15)
        #expect(abs(StableHash.fraction("a") - 0.010753497314070604) < 1e-15)
    }
}
