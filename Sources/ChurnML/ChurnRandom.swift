import ChurnData

/// The generator every ChurnML initialisation and shuffle uses (ChurnData's seeded xoshiro).
public typealias ChurnRandom = SeededRandom
