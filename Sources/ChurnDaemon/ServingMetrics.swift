import ChurnProtocol
import Histogram
import Prometheus
import Synchronization

/// Requests, customers, errors and latency per model version and arm: percentiles for `health`
/// (HdrHistogram), and Prometheus text for scraping (swift-prometheus).
final class ServingMetrics: Sendable {
    private struct Key: Hashable {
        let model: ModelRef
        let arm: Arm
    }

    private struct Series {
        var requests = 0
        var customers = 0
        var errors = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        let requestCounter: Counter
        let customerCounter: Counter
        let errorCounter: Counter
        let duration: DurationHistogram
        /// p50 and p99 in milliseconds as last computed, nil once a call was recorded since:
        /// reading percentiles walks the histogram, so `health` does it only after a change.
        var percentiles: (p50: Double, p99: Double)?

        mutating func record(customers: Int, nanoseconds: UInt64, latency: Duration, failed: Bool) {
            requests += 1
            self.customers += customers
            requestCounter.increment()
            customerCounter.increment(by: Int64(customers))
            if failed {
                errors += 1
                errorCounter.increment()
            }
            _ = self.latency.record(nanoseconds)
            percentiles = nil
            duration.record(latency)
        }
    }

    let prometheus: PrometheusCollectorRegistry
    /// Prediction log entries lost (`churn_prediction_log_lost_total`): exported from the start,
    /// at 0, so an alert on it needs no first loss to exist.
    let predictionLogLost: Counter
    private let series = Mutex<[Key: Series]>([:])
    private static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]

    init() {
        let prometheus = PrometheusCollectorRegistry()
        self.prometheus = prometheus
        predictionLogLost = prometheus.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "churn", metricName: "prediction_log_lost", unitName: "total",
                helpText: "prediction log entries lost: neither the registry nor the spool could take them in time"))
    }

    /// Records one answered (or failed) call.
    func record(model: ModelRef, arm: Arm, customers: Int, latency: Duration, failed: Bool) {
        let key = Key(model: model, arm: arm)
        let nanoseconds = UInt64(max(0, latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000))
        series.withLock { all in
            // One hash of the key per call; the series is updated in place.
            if let index = all.index(forKey: key) {
                all.values[index].record(customers: customers, nanoseconds: nanoseconds, latency: latency, failed: failed)
                return
            }
            // The first call for this model, version and arm creates its series.
            let labels = [("model", model.name), ("version", String(model.version)), ("arm", arm.rawValue)]
            all[key] = Series(
                requestCounter: prometheus.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "churn", metricName: "requests", unitName: "total", helpText: "predict and explain calls answered"),
                    labels: labels),
                customerCounter: prometheus.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "churn", metricName: "customers", unitName: "total", helpText: "customers scored"),
                    labels: labels),
                errorCounter: prometheus.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "churn", metricName: "errors", unitName: "total", helpText: "calls that failed"),
                    labels: labels),
                duration: prometheus.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(namespace: "churn", metricName: "request_duration", unitName: "seconds", helpText: "time from receipt to answer"),
                    labels: labels, buckets: Self.buckets))
            all[key]!.record(customers: customers, nanoseconds: nanoseconds, latency: latency, failed: failed)
        }
    }

    /// Batch histograms of one model version: rows per plugin call and each request's wait in
    /// the batcher's queue (`churn_batch_rows`, `churn_batch_queue_wait_seconds`), and the
    /// requests waiting now (`churn_batch_queued_requests`).
    func batchObserver(model: ModelRef) -> BatchObserver {
        let labels = [("model", model.name), ("version", String(model.version))]
        return BatchHistograms(
            queued: prometheus.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "churn", metricName: "batch_queued", unitName: "requests",
                    helpText: "predict requests waiting for the batch ahead of them"),
                labels: labels),
            rows: prometheus.makeValueHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "churn", metricName: "batch", unitName: "rows", helpText: "customers per plugin predict call"),
                labels: labels, buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384]),
            queueWait: prometheus.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "churn", metricName: "batch_queue_wait", unitName: "seconds",
                    helpText: "time a predict waited for its batch to be sent"),
                labels: labels,
                buckets: [
                    .zero, .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                    .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
                ]))
    }

    /// Every series, for `health`.
    func summary() -> [ServingSeries] {
        series.withLock { all in
            for index in all.indices where all.values[index].percentiles == nil {
                let latency = all.values[index].latency
                all.values[index].percentiles = (
                    Double(latency.valueAtPercentile(50)) / 1e6, Double(latency.valueAtPercentile(99)) / 1e6
                )
            }
            return all.map { key, value in
                ServingSeries(
                    model: key.model, arm: key.arm, requests: value.requests, customers: value.customers, errors: value.errors,
                    p50Milliseconds: value.percentiles?.p50 ?? 0, p99Milliseconds: value.percentiles?.p99 ?? 0)
            }.sorted { ($0.model.name, $0.model.version, $0.arm.rawValue) < ($1.model.name, $1.model.version, $1.arm.rawValue) }
        }
    }

    /// The Prometheus text exposition.
    func prometheusText() -> String {
        prometheus.emitToString()
    }
}

/// A batcher's histograms in the Prometheus registry.
private struct BatchHistograms: BatchObserver {
    let queued: Gauge
    let rows: ValueHistogram
    let queueWait: DurationHistogram

    func queued(_ change: Int) {
        queued.increment(by: Double(change))
    }

    func batch(rows: Int, waits: [Duration]) {
        self.rows.record(Double(rows))
        for wait in waits { queueWait.record(wait) }
    }
}
