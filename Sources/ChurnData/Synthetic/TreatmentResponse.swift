import ChurnProtocol

/// How the synthetic telco population responds to a retention offer: a documented,
/// heterogeneous effect, so a campaign run on synthetic customers has a known truth to recover.
///
/// - **Persuadables**: month-to-month customers in their first two years. A two-year contract
///   offer keeps half of those who would have left (each churner stays with probability 0.5).
/// - **Everyone else** ("sure things" on long contracts who would mostly stay anyway, and
///   customers in their third year or later who leave for reasons an offer does not touch):
///   no effect.
///
/// Draws are seeded by the customer id, so the same customer responds the same way every run.
public enum TreatmentResponse {
    /// The share of would-be churners among persuadables whom the offer keeps.
    public static let persuadableEffect = 0.5

    /// The segment a customer falls in, from its contract and tenure (fields of the telco schema).
    public static func segment(contract: String, tenure: Double) -> String {
        contract == "Month-to-month" && tenure < 24 ? "persuadable" : "unaffected"
    }

    /// The segment of a customer record of the synthetic telco population (nil for records of
    /// another schema, which the generator's response model does not cover).
    public static func segment(of record: CustomerRecord) -> String? {
        guard case .string(let contract)? = record["Contract"], case .number(let tenure)? = record["tenure"] else { return nil }
        return segment(contract: contract, tenure: tenure)
    }

    /// Whether a treated customer leaves, given whether it would have left untreated.
    public static func outcome(customerID: String, wouldChurn: Bool, segment: String) -> Bool {
        guard wouldChurn, segment == "persuadable" else { return wouldChurn }
        var random = SeededRandom(seed: StableHash.fnv1a("treatment:\(customerID)"))
        return random.unit() >= persuadableEffect
    }

    /// The outcomes of a campaign on synthetic telco customers: each row's label, changed by the
    /// response model for the rows given the offer (`treated`).
    public static func campaignOutcomes(of customers: Dataset, treated: [Bool]) -> [Bool] {
        let natural = customers.churned ?? []
        let ids = customers.customers.ids
        return natural.indices.map { row in
            guard treated[row], let segment = segment(of: customers.record(at: row)) else { return natural[row] }
            return outcome(customerID: ids[row], wouldChurn: natural[row], segment: segment)
        }
    }
}
