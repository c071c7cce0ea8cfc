/// `health` is polled often (by monitors, load balancers, the web UI): its answer is written
/// straight to bytes, as the predict path's is, instead of through the tree encoder. The rare
/// nested parts (a running experiment, a plugin's description) go through the encoder.
/// `PredictPathCodingTests` checks that both ways say exactly the same.
extension HealthResult: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("status", first: true, into: &output)
        JSONWriter.writeString(status, into: &output)
        writeKey("daemon_version", into: &output)
        JSONWriter.writeString(daemonVersion, into: &output)
        writeKey("protocol_version", into: &output)
        JSONWriter.writeNumber(Double(protocolVersion), into: &output)
        writeKey("pid", into: &output)
        JSONWriter.writeNumber(Double(pid), into: &output)
        writeKey("uptime_seconds", into: &output)
        JSONWriter.writeNumber(uptimeSeconds, into: &output)
        writeKey("socket", into: &output)
        JSONWriter.writeString(socket, into: &output)
        writeKey("plugins", into: &output)
        writeArray(plugins, into: &output)
        if let champion {
            writeKey("champion", into: &output)
            champion.writeJSON(into: &output)
        }
        if let experiment {
            writeKey("experiment", into: &output)
            writeEncoded(experiment, into: &output)
        }
        if let serving {
            writeKey("serving", into: &output)
            writeArray(serving, into: &output)
        }
        if let maxFrameBytes {
            writeKey("max_frame_bytes", into: &output)
            JSONWriter.writeNumber(Double(maxFrameBytes), into: &output)
        }
        if let registry {
            writeKey("registry", into: &output)
            output.append(UInt8(ascii: "{"))
            writeKey("engine", first: true, into: &output)
            JSONWriter.writeString(registry.engine, into: &output)
            writeKey("location", into: &output)
            JSONWriter.writeString(registry.location, into: &output)
            writeKey("spooled_log_entries", into: &output)
            JSONWriter.writeNumber(Double(registry.spooledLogEntries), into: &output)
            writeKey("held_log_entries", into: &output)
            JSONWriter.writeNumber(Double(registry.heldLogEntries), into: &output)
            writeKey("lost_log_entries", into: &output)
            JSONWriter.writeNumber(Double(registry.lostLogEntries), into: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension PluginStatus: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("kind", first: true, into: &output)
        JSONWriter.writeString(kind, into: &output)
        writeKey("executable", into: &output)
        JSONWriter.writeString(executable, into: &output)
        writeKey("state", into: &output)
        JSONWriter.writeString(state.rawValue, into: &output)
        if let pid {
            writeKey("pid", into: &output)
            JSONWriter.writeNumber(Double(pid), into: &output)
        }
        if let description {
            writeKey("description", into: &output)
            writeEncoded(description, into: &output)
        }
        writeKey("restarts", into: &output)
        JSONWriter.writeNumber(Double(restarts), into: &output)
        if let lastError {
            writeKey("last_error", into: &output)
            JSONWriter.writeString(lastError, into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension ServingSeries: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("model", first: true, into: &output)
        model.writeJSON(into: &output)
        writeKey("arm", into: &output)
        JSONWriter.writeString(arm.rawValue, into: &output)
        writeKey("requests", into: &output)
        JSONWriter.writeNumber(Double(requests), into: &output)
        writeKey("customers", into: &output)
        JSONWriter.writeNumber(Double(customers), into: &output)
        writeKey("errors", into: &output)
        JSONWriter.writeNumber(Double(errors), into: &output)
        writeKey("p50_ms", into: &output)
        JSONWriter.writeNumber(p50Milliseconds, into: &output)
        writeKey("p99_ms", into: &output)
        JSONWriter.writeNumber(p99Milliseconds, into: &output)
        output.append(UInt8(ascii: "}"))
    }
}

extension ModelRef: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("name", first: true, into: &output)
        JSONWriter.writeString(name, into: &output)
        writeKey("version", into: &output)
        JSONWriter.writeNumber(Double(version), into: &output)
        output.append(UInt8(ascii: "}"))
    }
}

/// A value through the tree encoder (`null` if it cannot be encoded, which these types never are).
private func writeEncoded<T: Encodable>(_ value: T, into output: inout [UInt8]) {
    JSONWriter.write((try? JSONValueEncoder.encode(value)) ?? .null, into: &output)
}
