import ChurnNumerics

/// The generator every ChurnML initialisation and shuffle uses (the seeded xoshiro of ChurnNumerics).
public typealias ChurnRandom = SeededRandom
