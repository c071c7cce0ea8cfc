/// A `progress` notification names its request by id, and the id must reach the caller as the
/// caller sent it (a number's exact text, see ``RPCID``): so the update is written straight to
/// bytes, not through the tree encoder, whose numbers are `Double`s.
/// `PredictPathCodingTests` checks that both ways say the same.
extension ProgressUpdate: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("request", first: true, into: &output)
        request.writeJSON(into: &output)
        writeKey("stage", into: &output)
        JSONWriter.writeString(stage, into: &output)
        writeKey("step", into: &output)
        JSONWriter.writeNumber(Double(step), into: &output)
        if let total {
            writeKey("total", into: &output)
            JSONWriter.writeNumber(Double(total), into: &output)
        }
        writeKey("message", into: &output)
        JSONWriter.writeString(message, into: &output)
        if let metrics {
            writeKey("metrics", into: &output)
            JSONWriter.write(.object(metrics.mapValues(JSONValue.number)), into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}
