// Data and evaluation read and write the numbers the models share (the seeded generator,
// metrics, sequence batches): whoever imports ChurnData sees them too.
@_exported import ChurnNumerics
