import ChurnData
import ChurnTestSupport
import Foundation
import Testing

/// The real telco files, from ../shared beside the repository.
enum RealData {
    static let folder = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco"
    static let trainPath = folder + "/telco_train.csv"
    static let ibmPath = folder + "/ibm_telco_extended_train.csv"

    /// The path, or a recorded issue saying where the data should be.
    static func require(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record(
                "real telco data is missing at \(path): these tests need ../shared/data/telco beside the repository",
                sourceLocation: sourceLocation)
            return nil
        }
        return path
    }
}

func csvBytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The Kaggle header and one valid row, for building small files.
enum Rows {
    static let header = "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"

    static func row(
        id: String = "0001-A", tenure: String = "12", contract: String = "Month-to-month", monthly: String = "70.5",
        total: String = "846", churn: String = "No"
    ) -> String {
        "\(id),Female,0,Yes,No,\(tenure),Yes,No,Fiber optic,No,Yes,No,No,Yes,No,\(contract),Yes,Electronic check,\(monthly),\(total),\(churn)"
    }
}
