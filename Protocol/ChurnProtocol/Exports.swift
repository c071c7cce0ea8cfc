// The wire types are written in JSON: whoever speaks the protocol reads and writes it too.
@_exported import ChurnJSON
